module github.com/wslua/wslua

go 1.26
