package faulttest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/birjob/birjob/internal/pgtest"
)

// enabled is true when BIRJOB_FAULT=1: the fault tests take minutes, and
// make test-fault runs them apart from make test.
var enabled = os.Getenv("BIRJOB_FAULT") == "1"

// binary is the birjob binary built for this run.
var binary string

func TestMain(m *testing.M) {
	if !enabled {
		os.Exit(m.Run()) // every test skips
	}
	dir, err := os.MkdirTemp("", "birjob-fault-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Chmod(dir, 0o755)
	binary = filepath.Join(dir, "birjob")
	build := exec.Command("go", "build", "-o", binary, "github.com/birjob/birjob/cmd/birjob")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "faulttest: build birjob:", err)
		os.Exit(1)
	}
	raiseFileLimit()
	code := m.Run()
	pgtest.Shutdown()
	os.RemoveAll(dir)
	os.Exit(code)
}

// raiseFileLimit lifts the soft limit on open files to the hard one: the
// clients of the 1,000-client test hold a socket each, and the birjob
// processes started from here inherit the limit.
func raiseFileLimit() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// needFault skips a test unless the fault tests were asked for.
func needFault(t *testing.T) {
	t.Helper()
	if !enabled || testing.Short() {
		t.Skip("fault test: set BIRJOB_FAULT=1 (make test-fault)")
	}
}
