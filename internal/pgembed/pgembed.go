// Package pgembed runs a private PostgreSQL cluster from the server binaries
// installed on the machine: birjob's embedded default when DATABASE_URL is
// not set, and the throwaway server of the tests.
//
// The cluster lives in a data folder of its own. The first start runs
// initdb; later starts reuse the data. The server listens on 127.0.0.1 on a
// free port (no unix socket, whose path length is limited) with trust
// authentication, and is a child of this process: it is stopped by Stop, and
// the kernel sends it a fast-shutdown signal if this process dies first. A
// server left running by a crashed birjob is found through its
// postmaster.pid on the next start and stopped before a new one starts.
//
// PostgreSQL refuses to run as root. When this process is root, initdb and
// the server run as the unprivileged "postgres" account (or nobody), which
// is given the data folder. When that account cannot reach the folder (root
// running birjob from a clone in its own 0700 home), the cluster lives in
// RelocateBase instead, in a folder named after the requested one, so the
// same checkout finds the same cluster again; Cluster.Dir says where, and
// nothing is created at the unreachable place.
package pgembed

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoServer is returned when no PostgreSQL server binaries can be found.
var ErrNoServer = errors.New("no PostgreSQL server binaries found: install the PostgreSQL server (Debian: apt-get install postgresql) or set DATABASE_URL to an existing database")

// Options configure a cluster.
type Options struct {
	// Dir is the data folder of the cluster.
	Dir string
	// Database is created at start if missing (default "birjob").
	Database string
	// Fast turns off fsync and friends: for throwaway test clusters only.
	Fast bool
	// Params are extra server settings (name → value).
	Params map[string]string
	// Log receives the server's output (default: Dir/../postgres.log).
	LogPath string
	// Port, when not 0, is the port to listen on (default: a free one), so
	// that a cluster started again is where its clients look.
	Port int
}

// RelocateBase is where a root process keeps a cluster whose requested
// folder the server's account cannot reach (a variable for tests).
var RelocateBase = "/var/lib/birjob"

// Cluster is a running embedded server.
type Cluster struct {
	opts    Options
	bin     string
	port    int
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	logFile *os.File
}

// binGlob is where Debian-style installs keep the server binaries.
var binGlob = "/usr/lib/postgresql/*/bin"

// FindBinDir returns the folder holding initdb and postgres: found on PATH,
// else the newest /usr/lib/postgresql/*/bin.
func FindBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob(binGlob)
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoServer
}

func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// Start initialises the cluster if needed and starts it.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Database == "" {
		opts.Database = "birjob"
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	opts.Dir = dir
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	if cred != nil {
		if blocked := unreachable(filepath.Dir(dir), cred); blocked != "" {
			moved := relocated(dir)
			if opts.LogPath == "" {
				opts.LogPath = moved + ".log"
			}
			dir, opts.Dir = moved, moved
		}
	}
	if err := prepareDir(dir, cred); err != nil {
		return nil, err
	}
	if err := stopStale(dir); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := initdb(ctx, bin, dir, cred); err != nil {
			return nil, err
		}
	}
	c := &Cluster{opts: opts, bin: bin}
	if err := c.start(ctx, cred); err != nil {
		return nil, err
	}
	if err := c.ensureDatabase(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// runAs returns the credential to run PostgreSQL with, or nil to run it as
// this process's user.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
	}
	return nil, errors.New("running as root and no unprivileged account (postgres or nobody) exists to run PostgreSQL: create one, run birjob as another user, or set DATABASE_URL")
}

func prepareDir(dir string, cred *syscall.Credential) error {
	// Parents stay enterable (0755) for the server's account; the cluster
	// folder itself is private to it (PostgreSQL insists on 0700).
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("embedded postgres: create %s: %w", filepath.Dir(dir), err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("embedded postgres: create %s: %w", dir, err)
	}
	if cred == nil {
		return os.Chmod(dir, 0o700)
	}
	// The account must be able to reach the folder through its parents
	// (Start relocates a folder it cannot; this catches a base that is not
	// reachable either).
	if p := unreachable(filepath.Dir(dir), cred); p != "" {
		return fmt.Errorf("embedded postgres runs as uid %d, which cannot enter %s: set BIRJOB_DATA_DIR to a folder outside it (for example /var/tmp/birjob) or set DATABASE_URL", cred.Uid, p)
	}
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(cred.Uid), int(cred.Gid))
	})
	if err != nil {
		return fmt.Errorf("embedded postgres: give %s to uid %d: %w", dir, cred.Uid, err)
	}
	return os.Chmod(dir, 0o700)
}

// unreachable returns the first existing folder on the way to dir (dir
// included) that the account of cred cannot enter, or "".
func unreachable(dir string, cred *syscall.Credential) string {
	for p := dir; p != "/" && p != "."; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			continue // not there yet: MkdirAll makes it enterable
		}
		st := fi.Sys().(*syscall.Stat_t)
		perm := fi.Mode().Perm()
		if perm&0o001 == 0 && !(st.Uid == cred.Uid && perm&0o100 != 0) && !(st.Gid == cred.Gid && perm&0o010 != 0) {
			return p
		}
	}
	return ""
}

// relocated is the folder under RelocateBase that stands in for dir: its
// base name and a hash of its absolute path, so that two checkouts keep two
// clusters and one checkout always finds its own.
func relocated(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(RelocateBase, fmt.Sprintf("%s-%x", filepath.Base(filepath.Dir(dir))+"-"+filepath.Base(dir), sum[:4]))
}

// Dir returns the cluster's data folder: Options.Dir, or where it was
// relocated to (see the package doc).
func (c *Cluster) Dir() string { return c.opts.Dir }

func command(ctx context.Context, cred *syscall.Credential, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	cmd.Dir = "/"
	return cmd
}

func initdb(ctx context.Context, bin, dir string, cred *syscall.Credential) error {
	cmd := command(ctx, cred, filepath.Join(bin, "initdb"),
		"-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("embedded postgres: initdb: %w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// stopStale stops a server that a crashed birjob left running on dir, and
// removes a postmaster.pid whose process is gone or is not a postgres.
func stopStale(dir string) error {
	pidFile := filepath.Join(dir, "postmaster.pid")
	f, err := os.Open(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(f)
	sc.Scan()
	pid, _ := strconv.Atoi(strings.TrimSpace(sc.Text()))
	f.Close()
	if pid <= 0 || !isPostgres(pid) {
		return os.Remove(pidFile)
	}
	// Fast shutdown; escalate if it does not go.
	_ = syscall.Kill(pid, syscall.SIGINT)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return nil
		}
		if time.Now().After(deadline.Add(-20 * time.Second)) {
			_ = syscall.Kill(pid, syscall.SIGQUIT)
		}
		time.Sleep(50 * time.Millisecond) // polling a foreign process: no signal to wait on
	}
	return fmt.Errorf("embedded postgres: a server left running (pid %d) on %s did not stop", pid, dir)
}

func isPostgres(pid int) bool {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return false
	}
	c := strings.TrimSpace(string(comm))
	return c == "postgres" || c == "postmaster"
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) start(ctx context.Context, cred *syscall.Credential) error {
	logPath := c.opts.LogPath
	if logPath == "" {
		logPath = filepath.Join(filepath.Dir(c.opts.Dir), filepath.Base(c.opts.Dir)+".log")
	}
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("embedded postgres: log: %w", err)
	}
	c.logFile = lf
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if c.opts.Port != 0 {
			port, err = c.opts.Port, nil
		}
		if err != nil {
			return err
		}
		args := []string{"-D", c.opts.Dir, "-p", strconv.Itoa(port),
			"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
			"-c", "max_connections=200"}
		if c.opts.Fast {
			args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
		}
		keys := make([]string, 0, len(c.opts.Params))
		for k := range c.opts.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			args = append(args, "-c", k+"="+c.opts.Params[k])
		}
		// Not bound to ctx: the server must outlive a start-up context.
		cmd := command(context.Background(), cred, filepath.Join(c.bin, "postgres"), args...)
		cmd.Stdout, cmd.Stderr = lf, lf
		cmd.SysProcAttr.Pdeathsig = syscall.SIGINT
		if err := startLocked(cmd); err != nil {
			return fmt.Errorf("embedded postgres: start: %w", err)
		}
		c.cmd, c.port = cmd, port
		c.exited = make(chan struct{})
		go func() { c.waitErr = cmd.Wait(); close(c.exited) }()
		if lastErr = c.waitReady(ctx); lastErr == nil {
			return nil
		}
		c.kill()
	}
	return fmt.Errorf("embedded postgres: did not become ready (see %s): %w", logPath, lastErr)
}

// startLocked starts cmd from a thread that stays alive for the life of the
// process, because Pdeathsig fires when the starting thread exits, and the
// Go runtime may retire threads.
func startLocked(cmd *exec.Cmd) error {
	errc := make(chan error)
	go func() {
		runtime.LockOSThread()
		errc <- cmd.Start()
		select {} // keep this thread: it is the child's parent thread
	}()
	return <-errc
}

func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		conn, err := pgx.Connect(ctx, c.adminURL("postgres"))
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		lastErr = err
		select {
		case <-c.exited:
			return fmt.Errorf("server exited: %v", c.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), lastErr)
		case <-tick.C:
		}
	}
}

func (c *Cluster) ensureDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.adminURL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", c.opts.Database).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.opts.Database}.Sanitize()); err != nil {
			return fmt.Errorf("embedded postgres: create database: %w", err)
		}
	}
	return nil
}

func (c *Cluster) adminURL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// URL is the connection string of the cluster's database.
func (c *Cluster) URL() string { return c.adminURL(c.opts.Database) }

// Port is the TCP port the server listens on.
func (c *Cluster) Port() int { return c.port }

// PID is the server's process id.
func (c *Cluster) PID() int { return c.cmd.Process.Pid }

// Exited is closed when the server process has exited.
func (c *Cluster) Exited() <-chan struct{} { return c.exited }

func (c *Cluster) kill() {
	if c.cmd != nil && c.cmd.Process != nil {
		_ = c.cmd.Process.Signal(syscall.SIGQUIT)
		<-c.exited
	}
}

// Stop shuts the server down (fast shutdown: open sessions are ended,
// committed data is kept) and waits for it, up to 30 s, then kills it.
func (c *Cluster) Stop() error {
	if c.cmd == nil || c.cmd.Process == nil {
		return nil
	}
	defer func() {
		if c.logFile != nil {
			c.logFile.Close()
		}
	}()
	select {
	case <-c.exited:
		return nil
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.exited:
		return nil
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
		return errors.New("embedded postgres: did not stop within 30s; killed")
	}
}

// WithDatabase returns the connection URL serverURL with its database
// replaced by db (its user, host and parameters kept). A URL that does not
// parse is an error, never returned as it is: the caller would work in the
// server's own database. (A socket directory goes in ?host=.)
func WithDatabase(serverURL, db string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", fmt.Errorf("database URL: %w", err)
	}
	u.Path = "/" + db
	return u.String(), nil
}
