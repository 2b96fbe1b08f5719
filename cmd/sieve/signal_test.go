package main

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestSIGHUPDrainsLikeSIGTERM: a hang-up ends the command's context, as
// SIGTERM does, so "sieve serve" drains; it used to kill the process with
// no drain (and would kill this test).
func TestSIGHUPDrainsLikeSIGTERM(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM} {
		ctx, stop := shutdownContext(context.Background())
		if err := syscall.Kill(os.Getpid(), sig); err != nil {
			stop()
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(30 * time.Second):
			t.Errorf("%v did not end the context", sig)
		}
		stop()
	}
}
