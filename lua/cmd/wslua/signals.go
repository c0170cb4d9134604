package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// noticeDelay is how long the command may take to end after the first
// interrupt before it says on stderr what it is waiting for: a script that
// ends at once prints nothing more than "interrupted".
const noticeDelay = 200 * time.Millisecond

// runWithSignals runs the command with SIGINT and SIGTERM handled: the
// first cancels the command's context (which closes its connections, each
// waiting at most its close timeout for the peer's reply), the second calls
// exit(130) at once.
func runWithSignals(args []string, sio stdio, exit func(int)) int {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		watchInterrupts(sigs, cancel, done, sio.err, noticeFor(args), exit)
	}()
	code := run(ctx, args, sio)
	close(done)
	<-stopped
	return code
}

// noticeFor returns what to say on stderr when the command is still running
// noticeDelay after the first interrupt. wslua connect says it itself (it
// knows its close timeout); wslua serve stops at once.
func noticeFor(args []string) string {
	if len(args) > 0 && (args[0] == "connect" || args[0] == "serve") {
		return ""
	}
	return scriptNotice
}

// watchInterrupts handles the signals received on sigs until done is
// closed: the first calls cancel and, if done is not closed within
// noticeDelay, prints notice (unless empty) on stderr; the second calls
// exit(exitInterrupted).
func watchInterrupts(sigs <-chan os.Signal, cancel func(), done <-chan struct{}, stderr io.Writer, notice string, exit func(int)) {
	select {
	case <-sigs:
	case <-done:
		return
	}
	cancel()
	var noticeC <-chan time.Time
	if notice != "" {
		t := time.NewTimer(noticeDelay)
		defer t.Stop()
		noticeC = t.C
	}
	for {
		select {
		case <-noticeC:
			fmt.Fprintln(stderr, notice)
			noticeC = nil
		case <-sigs:
			fmt.Fprintln(stderr, "wslua: interrupted again: quitting")
			exit(exitInterrupted)
			return
		case <-done:
			return
		}
	}
}
