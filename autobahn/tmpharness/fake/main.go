package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"

	"github.com/wslua/wslua/autobahn/internal/fakeserver"
)

func main() {
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		panic(err)
	}
	s := fakeserver.NewOn(ln, nil)
	fmt.Println("ready", s.URL())
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt)
	<-c
	s.Close()
	for _, r := range s.Results() {
		fmt.Println(r.Case, r.Agent, r.Err)
	}
	fmt.Println("updates", s.Updates(), "bad", s.BadRequests())
}
