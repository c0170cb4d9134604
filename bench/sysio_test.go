package bench

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
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

// cpuTime returns the CPU time (user + system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// costs are the process-wide counters a benchmark reports per op.
type costs struct {
	io   ioCounts
	ioOK bool
	cpu  time.Duration
}

// startCosts reads the counters; call it right before the timed loop.
func startCosts() costs {
	io, ok := readIOCounts()
	return costs{io: io, ioOK: ok, cpu: cpuTime()}
}

// report reports, per op since c was taken: the read and write system calls
// (rsys/op, wsys/op) and the CPU time of the whole process (cpu-ns/op), all
// counting both ends since the servers share the process. Unlike ns/op,
// these barely depend on what else the machine runs: CPU time is what an
// op costs, ns/op what it takes.
func (c costs) report(b *testing.B) {
	if b.N == 0 {
		return
	}
	cpu := cpuTime() - c.cpu
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	end, ok := readIOCounts()
	if !ok || !c.ioOK {
		return
	}
	b.ReportMetric(float64(end.reads-c.io.reads)/float64(b.N), "rsys/op")
	b.ReportMetric(float64(end.writes-c.io.writes)/float64(b.N), "wsys/op")
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

func TestCPUTime(t *testing.T) {
	c0 := cpuTime()
	deadline := time.Now().Add(20 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	if d := cpuTime() - c0; d <= 0 {
		t.Fatalf("no CPU time counted for a busy loop (%d iterations): %v", x, d)
	}
}
