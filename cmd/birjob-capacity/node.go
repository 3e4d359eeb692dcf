package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// birjobBin is the birjob binary the measurements start (make build).
var birjobBin = "bin/birjob"

func binFlag(fs *flag.FlagSet) {
	fs.StringVar(&birjobBin, "birjob", birjobBin, "the birjob binary to start as nodes (make build)")
}

// node is a birjob process started by this tool.
type node struct {
	name    string
	cmd     *exec.Cmd
	started time.Time
	url     string

	exited chan struct{}

	mu   sync.Mutex
	seen map[string]time.Time // first time each log message was seen
	attr map[string]map[string]any
	errs []string
}

// startNode starts birjob on dbURL with the roles in env (BIRJOB_* settings
// on top of: listen on a free loopback port, no demo, JSON logs) and waits
// until it serves.
func startNode(ctx context.Context, name, dbURL string, env map[string]string) (*node, error) {
	if _, err := os.Stat(birjobBin); err != nil {
		return nil, fmt.Errorf("%s: %w (run make build, or pass -birjob)", birjobBin, err)
	}
	vars := map[string]string{
		"DATABASE_URL":     dbURL,
		"BIRJOB_ADDR":      "127.0.0.1:0",
		"BIRJOB_DEMO":      "off",
		"BIRJOB_LOG_JSON":  "true",
		"BIRJOB_NODE":      name,
		"BIRJOB_DATA_DIR":  os.TempDir(),
		"BIRJOB_SCRAPE":    "false",
		"BIRJOB_COURIER":   "false",
		"BIRJOB_MATCH":     "false",
		"BIRJOB_KEEPALIVE": "25s",
	}
	for k, v := range env {
		vars[k] = v
	}
	var environ []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BIRJOB_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			environ = append(environ, kv)
		}
	}
	for k, v := range vars {
		environ = append(environ, k+"="+v)
	}
	n := &node{name: name, seen: map[string]time.Time{}, attr: map[string]map[string]any{}, exited: make(chan struct{})}
	n.cmd = exec.Command(birjobBin)
	n.cmd.Env = environ
	pr, pw := io.Pipe()
	n.cmd.Stderr = pw
	n.started = time.Now()
	if err := n.cmd.Start(); err != nil {
		return nil, err
	}
	go n.readLog(pr)
	go func() { n.cmd.Wait(); pw.Close(); close(n.exited) }()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		if _, ok := n.when("birjob serving"); ok {
			u, _ := n.attrOf("birjob serving", "url").(string)
			if !isLoopbackURL(u) {
				n.stop()
				return nil, fmt.Errorf("node %s serves at %q, not on loopback", name, u)
			}
			n.url = u
			return n, nil
		}
		select {
		case <-n.exited:
			return nil, fmt.Errorf("node %s exited: %s", name, strings.Join(n.errors(), "; "))
		case <-ctx.Done():
			n.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			n.stop()
			return nil, fmt.Errorf("node %s did not start: %s", name, strings.Join(n.errors(), "; "))
		}
	}
}

func (n *node) attrOf(msg, key string) any {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.attr[msg][key]
}

func (n *node) pid() int { return n.cmd.Process.Pid }

// readLog records the first time each message appears and keeps warnings
// and errors.
func (n *node) readLog(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		now := time.Now()
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			n.mu.Lock()
			if len(n.errs) < 20 {
				n.errs = append(n.errs, sc.Text())
			}
			n.mu.Unlock()
			continue
		}
		msg, _ := m["msg"].(string)
		level, _ := m["level"].(string)
		n.mu.Lock()
		if _, ok := n.seen[msg]; !ok {
			n.seen[msg] = now
			n.attr[msg] = m
		}
		if level == "WARN" || level == "ERROR" {
			if len(n.errs) < 20 {
				n.errs = append(n.errs, msg+" "+fmt.Sprint(m["err"]))
			}
		}
		n.mu.Unlock()
	}
}

// when is the time the message was first logged.
func (n *node) when(msg string) (time.Time, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	t, ok := n.seen[msg]
	return t, ok
}

func (n *node) errors() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.errs...)
}

// waitLog waits until msg is logged, up to timeout.
func (n *node) waitLog(ctx context.Context, msg string, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		if t, ok := n.when(msg); ok {
			return t, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return time.Time{}, fmt.Errorf("node %s: no %q within %s", n.name, msg, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends the node (SIGTERM, then SIGKILL after 30 s) and waits for it.
func (n *node) stop() {
	if n.cmd.Process == nil {
		return
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		n.cmd.Process.Kill()
		<-n.exited
	}
}

// metrics reads some of the node's /metrics: Go's and the process's.
func (n *node) metrics() map[string]float64 {
	out := map[string]float64{}
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(n.url + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.Contains(line, "{") {
			continue
		}
		name, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err == nil {
			out[name] = f
		}
	}
	return out
}

func isLoopbackURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}
