package pgembed

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func tempDir(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts PostgreSQL clusters; skipped with -short")
	}
	dir, err := os.MkdirTemp("", "pgembed-test-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755) // the server's account must reach it
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "pg")
}

func start(t *testing.T, dir string) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{Dir: dir, Fast: true})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { c.Stop() })
	return c
}

func exec1(t *testing.T, c *Cluster, sql string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var out string
	if err := conn.QueryRow(ctx, sql).Scan(&out); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// waitGone waits for a foreign process to exit (there is no signal to wait
// on for a process that is not our child).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still running", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStart_InitReuseStop(t *testing.T) {
	dir := tempDir(t)
	c := start(t, dir)
	if got := exec1(t, c, "SELECT current_database()"); got != "birjob" {
		t.Fatalf("database %q, want birjob created at first start", got)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept AS SELECT 'survives restart'::text AS v"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	pid := c.PID()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Exited():
	default:
		t.Fatal("Stop returned before the server exited")
	}
	if syscall.Kill(pid, 0) == nil {
		t.Fatalf("server %d still running after Stop", pid)
	}
	if _, err := os.Stat(filepath.Join(dir, "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("postmaster.pid left behind after a clean stop: %v", err)
	}

	c2 := start(t, dir)
	if got := exec1(t, c2, "SELECT v FROM kept"); got != "survives restart" {
		t.Fatalf("reused cluster lost data: %q", got)
	}
}

func TestStart_StalePidFile(t *testing.T) {
	dir := tempDir(t)
	c := start(t, dir)
	c.Stop()
	// A pid file from a crash whose pid now belongs to some other process
	// (here: this test) must not block the start.
	if err := os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte(fmt.Sprintf("%d\n%s\n", os.Getpid(), dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	c2 := start(t, dir)
	if got := exec1(t, c2, "SELECT 'up'"); got != "up" {
		t.Fatal(got)
	}
}

func TestStart_StopsLeftoverServer(t *testing.T) {
	dir := tempDir(t)
	old := start(t, dir)
	oldPID := old.PID()
	// Start again on the same folder while the first server still runs, as
	// after a crash of birjob that left its server behind.
	c2 := start(t, dir)
	<-old.Exited()
	if c2.PID() == oldPID {
		t.Fatal("same server")
	}
	if got := exec1(t, c2, "SELECT 'up'"); got != "up" {
		t.Fatal(got)
	}
}

// TestStart_ParentCrash runs a child process that starts the cluster and is
// then killed with SIGKILL: the server must go down with it, and the next
// start must work on the same data.
func TestStart_ParentCrash(t *testing.T) {
	if dir := os.Getenv("PGEMBED_CHILD_DIR"); dir != "" {
		c, err := Start(context.Background(), Options{Dir: dir, Fast: true})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("ready", c.PID())
		select {}
	}
	dir := tempDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestStart_ParentCrash$")
	cmd.Env = append(os.Environ(), "PGEMBED_CHILD_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready ") {
		cmd.Process.Kill()
		t.Fatalf("child: %q %v", line, err)
	}
	pgPID, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "ready ")))
	cmd.Process.Kill()
	cmd.Wait()
	waitGone(t, pgPID)
	c := start(t, dir)
	if got := exec1(t, c, "SELECT 'recovered'"); got != "recovered" {
		t.Fatal(got)
	}
}

func TestFindBinDir_NoServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	old := binGlob
	binGlob = filepath.Join(t.TempDir(), "*", "bin")
	defer func() { binGlob = old }()
	_, err := FindBinDir()
	if !errors.Is(err, ErrNoServer) {
		t.Fatalf("err = %v, want ErrNoServer", err)
	}
	if !strings.Contains(err.Error(), "install") || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("message does not say what to install or set: %v", err)
	}
}

// TestStart_RootInPrivateHome is `make run` as root from a clone in root's
// 0700 home: the server's account cannot enter it, so the cluster lives
// under RelocateBase, nothing is created at the unreachable place, and a
// second start of the same checkout finds the same cluster.
func TestStart_RootInPrivateHome(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: only a root process runs the server as another account")
	}
	base := tempDir(t) // enterable by the server's account (0755 parent)
	old := RelocateBase
	RelocateBase = base
	t.Cleanup(func() { RelocateBase = old })
	home, err := os.MkdirTemp("", "pgembed-home-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(home, "clone", "data", "pg")

	c := start(t, want)
	if !strings.HasPrefix(c.Dir(), base+string(filepath.Separator)) {
		t.Fatalf("cluster in %s, want it relocated under %s", c.Dir(), base)
	}
	if _, err := os.Stat(filepath.Join(home, "clone")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("something was created in the unreachable home: %v", err)
	}
	exec1(t, c, "SELECT 'x' FROM (SELECT 1) s") // answers
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept AS SELECT 'same cluster'::text AS v"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	c2 := start(t, want)
	if c2.Dir() != c.Dir() {
		t.Fatalf("second start in %s, first in %s", c2.Dir(), c.Dir())
	}
	if got := exec1(t, c2, "SELECT v FROM kept"); got != "same cluster" {
		t.Fatalf("second start lost the data: %q", got)
	}
}

// TestWithDatabase: the database of a URL is replaced; user, host, port
// and parameters are kept. A URL that does not parse is an error, not the
// server's own database.
func TestWithDatabase(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://postgres@127.0.0.1:5432/postgres":            "postgres://postgres@127.0.0.1:5432/other",
		"postgres://u:p%40ss@db:6543/app?sslmode=disable":        "postgres://u:p%40ss@db:6543/other?sslmode=disable",
		"postgres://postgres@127.0.0.1:5432":                     "postgres://postgres@127.0.0.1:5432/other",
		"postgres://postgres@/postgres?host=/var/run/postgresql": "postgres://postgres@/other?host=/var/run/postgresql",
	} {
		if got, err := WithDatabase(in, "other"); err != nil || got != want {
			t.Errorf("WithDatabase(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, err := WithDatabase("postgres://postgres@%2Fvar%2Frun/postgres", "other"); err == nil {
		t.Errorf("a URL that does not parse gave %q, want an error", got)
	}
}
