package main

import (
	"os"
	"testing"
	"time"
)

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.3.2.1:1": true,
		"10.0.0.1:80": false, "[::1]:80": false, "example.com:80": false, "nonsense": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v", addr, got)
		}
	}
}

func TestStampOf(t *testing.T) {
	now := time.Unix(0, 5_000_000)
	if d, stamp, ok := stampOf([]byte(`data: {"sent":2000000,"seq":1}`), now); !ok || d != 3*time.Millisecond || stamp != 2_000_000 {
		t.Fatalf("stampOf = %v %v %v", d, stamp, ok)
	}
	for _, bad := range []string{`{}`, `{"sent":}`, `{"sent":"x"}`} {
		if _, _, ok := stampOf([]byte(bad), now); ok {
			t.Errorf("stampOf(%s) ok", bad)
		}
	}
}

// The CPU accounting reads this process's own time from /proc: it grows
// while the process computes, and the machine's counters are parsed.
func TestProcCPUGrowsWithWork(t *testing.T) {
	pid := os.Getpid()
	start := procCPU(pid, false)
	deadline := time.Now().Add(10 * time.Second)
	x := 0
	for procCPU(pid, false) <= start {
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stayed at %v after 10 s of work", start)
		}
		for i := range 1_000_000 {
			x += i
		}
	}
	_ = x
	m := machineNow()
	if m.Busy <= 0 || m.Idle <= 0 {
		t.Fatalf("machine CPU not parsed: %+v", m)
	}
	if got := m.since(m); got != "not measured" {
		t.Fatalf("empty window described as %q", got)
	}
}
