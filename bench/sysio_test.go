package bench

import (
	"bytes"
	"os"
	"strconv"
	"testing"
)

// ioCounts are the process's read and write system call counts from
// /proc/self/io (all threads): syscr counts read, readv, recvmsg and the
// like, syscw write, writev, sendmsg. Unlike time, they do not depend on
// what else the machine is running.
type ioCounts struct{ reads, writes int64 }

// readIOCounts returns the current counts; ok is false where /proc/self/io
// cannot be read.
func readIOCounts() (c ioCounts, ok bool) {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return c, false
	}
	found := 0
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		k, v, cut := bytes.Cut(line, []byte(": "))
		if !cut {
			continue
		}
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			continue
		}
		switch string(k) {
		case "syscr":
			c.reads, found = n, found+1
		case "syscw":
			c.writes, found = n, found+1
		}
	}
	return c, found == 2
}

// reportSyscalls reports the read and write system calls per op made since
// start (by both ends: the servers share the process).
func reportSyscalls(b *testing.B, start ioCounts, startOK bool) {
	end, ok := readIOCounts()
	if !ok || !startOK || b.N == 0 {
		return
	}
	b.ReportMetric(float64(end.reads-start.reads)/float64(b.N), "rsys/op")
	b.ReportMetric(float64(end.writes-start.writes)/float64(b.N), "wsys/op")
}

func TestReadIOCounts(t *testing.T) {
	before, ok := readIOCounts()
	if !ok {
		t.Skip("no /proc/self/io")
	}
	f, err := os.Open("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 16)
	for range 5 {
		if _, err := f.ReadAt(buf, 0); err != nil {
			t.Fatal(err)
		}
	}
	after, _ := readIOCounts()
	// Five reads of /proc/self/stat plus the reads of /proc/self/io itself.
	if got := after.reads - before.reads; got < 5 {
		t.Fatalf("read syscalls counted: %d, want at least 5", got)
	}
}
