package procstat

import (
	"os"
	"syscall"
	"testing"
	"time"
)

func TestStatFields(t *testing.T) {
	// A command name with a space and a ')' of its own, as proc(5) allows.
	line := "4242 (a) b) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 12 3 20 0 9 0 123 456 789\n"
	f := StatFields(line)
	if len(f) < 18 || f[3] != "S" || f[4] != "1" || field(f, 14) != 250 || field(f, 15) != 75 || field(f, 16) != 12 || field(f, 17) != 3 {
		t.Fatalf("StatFields = %q", f)
	}
	if StatFields("no parenthesis") != nil {
		t.Fatal("a line without a command name was parsed")
	}
}

func TestKBLine(t *testing.T) {
	text := "Name:\tbirjob\nVmRSS:\t   86016 kB\nThreads:\t9\n"
	if got := KBLine(text, "VmRSS"); got != 86016*1024 {
		t.Fatalf("KBLine = %d", got)
	}
	if got := KBLine(text, "VmSwap"); got != 0 {
		t.Fatalf("KBLine of a missing line = %d", got)
	}
}

// This process's own counters: memory held, CPU time that grows while it
// computes, and a machine whose counters parse.
func TestOnSelf(t *testing.T) {
	pid := os.Getpid()
	if RSS(pid) <= 0 {
		t.Fatalf("RSS = %d", RSS(pid))
	}
	start := ProcessCPU(pid, false)
	deadline := time.Now().Add(10 * time.Second)
	x := 0
	for ProcessCPU(pid, false) <= start {
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stayed at %v after 10 s of work", start)
		}
		for i := range 1_000_000 {
			x += i
		}
	}
	_ = x
	if own := ProcessCPU(pid, false); ProcessCPU(pid, true) < own {
		t.Fatal("with children, less CPU than without, read after it")
	}
	if ProcessCPU(-1, false) != 0 || RSS(-1) != 0 {
		t.Fatal("a missing process has counters")
	}
	if m := MachineNow(); m.Busy <= 0 || m.Idle <= 0 {
		t.Fatalf("machine CPU not parsed: %+v", m)
	}
}

// TestRaiseFDLimit: the soft limit ends at least where it was, and at
// want when the hard limit allows it.
func TestRaiseFDLimit(t *testing.T) {
	var before syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &before); err != nil {
		t.Skip(err)
	}
	want := before.Cur + 1
	got := RaiseFDLimit(want)
	var now syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &now); err != nil {
		t.Fatal(err)
	}
	if now != got || now.Cur < before.Cur || (before.Max >= want && now.Cur < want) {
		t.Errorf("limit %+v (returned %+v) after raising %+v to %d", now, got, before, want)
	}
}
