package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestCPUSecsFollowsTheProcess(t *testing.T) {
	before := cpuSecs(os.Getpid())
	// Burn a little more than a clock tick of CPU.
	deadline := time.Now().Add(60 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	after := cpuSecs(os.Getpid())
	if after <= before || after-before > 5 {
		t.Fatalf("cpuSecs: %.2f s before, %.2f s after 60 ms of work (%d loops)", before, after, x)
	}
	if got := cpuSecs(1 << 30); got != 0 {
		t.Fatalf("cpuSecs of a process that does not exist: %.2f, want 0", got)
	}
}

func TestCPUUseSaysPerRecordAndCores(t *testing.T) {
	a := cpuSample{engine: 10, server: 20, broker: 1, bench: 2}
	b := cpuSample{engine: 14.5, server: 26, broker: 2, bench: 2.5}
	got := cpuBetween(a, b, 1_000_000, 6).String()
	for _, want := range []string{"engine 4.5 µs", "ClickHouse 6.0 µs", "broker 1.0 µs", "bench 0.5 µs", "cores busy 2.00"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	if got := cpuBetween(a, b, 0, 6).String(); got != "cpu not measured" {
		t.Errorf("no records: %q", got)
	}
}
