package notify

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const waitFor = 15 * time.Second

// testAuth stands in for the auth middleware: X-Test-User carries the user
// id, X-Test-Admin: 1 makes it an admin, X-Test-Session the credential's
// hash (Principal.TokenHash).
func testAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("X-Test-User"); v != "" {
			id, _ := strconv.ParseInt(v, 10, 64)
			p := auth.Principal{UserID: id, Email: v + "@test", Admin: r.Header.Get("X-Test-Admin") == "1", TokenHash: r.Header.Get("X-Test-Session")}
			r = r.WithContext(auth.WithPrincipal(r.Context(), p))
		}
		next.ServeHTTP(w, r)
	})
}

type node struct {
	hub    *Hub
	srv    *httptest.Server
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan struct{}
}

// startNode starts a hub and its HTTP server on pool.
func startNode(t *testing.T, pool *pgxpool.Pool, cfg Config) *node {
	t.Helper()
	return startNodeWith(t, pool, cfg, func(mux *http.ServeMux) http.Handler { return testAuth(mux) })
}

// startNodeWith is startNode with the server's handler made by handler
// from the mux the hub's routes are on.
func startNodeWith(t *testing.T, pool *pgxpool.Pool, cfg Config, handler func(*http.ServeMux) http.Handler) *node {
	t.Helper()
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h := NewHub(pool, cfg, log, reg)
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{hub: h, reg: reg, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(n.done); h.Run(ctx) }()
	mux := http.NewServeMux()
	h.Routes(mux)
	n.srv = httptest.NewServer(handler(mux))
	t.Cleanup(n.stop)
	wctx, wcancel := context.WithTimeout(context.Background(), waitFor)
	defer wcancel()
	if err := h.waitReady(wctx); err != nil {
		t.Fatalf("hub not ready: %v", err)
	}
	return n
}

func (n *node) stop() {
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	n.hub.Shutdown(sctx)
	cancel()
	n.cancel()
	<-n.done
	n.srv.CloseClientConnections()
	n.srv.Close()
}

func appendEv(t *testing.T, pool *pgxpool.Pool, channel, typ, data string) int64 {
	t.Helper()
	ids, err := storage.New(pool).AppendEvents(context.Background(), model.Event{Channel: channel, Type: typ, Data: json.RawMessage(data)})
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return ids[0]
}

// frame is one parsed SSE block.
type frame struct {
	ID, Event, Data, Retry, Comment string
	HasID                           bool
}

type sseClient struct {
	resp   *http.Response
	frames chan frame
	errc   chan error
	cancel context.CancelFunc
}

// openSSE opens an SSE stream; hdr may carry Last-Event-ID and X-Test-User.
func openSSE(t *testing.T, base, path string, hdr map[string]string) *sseClient {
	t.Helper()
	c, status, body := tryOpenSSE(t, base, path, hdr)
	if c == nil {
		t.Fatalf("GET %s: status %d: %s", path, status, body)
	}
	return c
}

func tryOpenSSE(t *testing.T, base, path string, hdr map[string]string) (*sseClient, int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		return nil, resp.StatusCode, string(b)
	}
	c := &sseClient{resp: resp, frames: make(chan frame, 10000), errc: make(chan error, 1), cancel: cancel}
	go func() {
		br := bufio.NewReader(resp.Body)
		var f frame
		empty := true
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				c.errc <- err
				close(c.frames)
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				if !empty {
					c.frames <- f
				}
				f, empty = frame{}, true
				continue
			}
			empty = false
			k, v, _ := strings.Cut(line, ":")
			v = strings.TrimPrefix(v, " ")
			switch k {
			case "id":
				f.ID, f.HasID = v, true
			case "event":
				f.Event = v
			case "data":
				if f.Data != "" {
					f.Data += "\n"
				}
				f.Data += v
			case "retry":
				f.Retry = v
			case "":
				f.Comment = v
			}
		}
	}()
	t.Cleanup(c.close)
	return c, 200, ""
}

func (c *sseClient) close() { c.cancel(); c.resp.Body.Close() }

// next returns the next frame that is not a keepalive comment.
func (c *sseClient) next(t *testing.T) frame {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				t.Fatalf("stream ended: %v", <-c.errc)
			}
			if f.Comment == "keepalive" && f.Event == "" && f.Data == "" {
				continue
			}
			return f
		case <-deadline:
			t.Fatal("timed out waiting for an SSE frame")
		}
	}
}

// nextEvents reads n event frames (with ids) and returns their ids.
func (c *sseClient) nextIDs(t *testing.T, n int) []int64 {
	t.Helper()
	var ids []int64
	for len(ids) < n {
		f := c.next(t)
		if !f.HasID {
			continue
		}
		id, err := strconv.ParseInt(f.ID, 10, 64)
		if err != nil {
			t.Fatalf("bad id %q", f.ID)
		}
		ids = append(ids, id)
	}
	return ids
}

// connected reads the connected frame.
func (c *sseClient) connected(t *testing.T) frame {
	t.Helper()
	f := c.next(t)
	if f.Event != "connected" {
		t.Fatalf("first frame = %+v, want event connected", f)
	}
	return f
}

type wsClient struct {
	conn *websocket.Conn
	msgs chan map[string]any
	err  error // why the reader stopped; read after msgs is closed
}

func dialWS(t *testing.T, base string, hdr http.Header) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/ws", &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		t.Fatalf("dial ws: %v", err)
	}
	conn.SetReadLimit(1 << 22)
	c := &wsClient{conn: conn, msgs: make(chan map[string]any, 10000)}
	go func() {
		defer close(c.msgs)
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				c.err = err
				return
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				panic(fmt.Sprintf("server sent bad JSON %q", b))
			}
			c.msgs <- m
		}
	}()
	t.Cleanup(func() { conn.CloseNow() })
	return c
}

func (c *wsClient) send(t *testing.T, s string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		t.Fatalf("ws write: %v", err)
	}
}

func (c *wsClient) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			t.Fatal("websocket closed")
		}
		return m
	case <-time.After(waitFor):
		t.Fatal("timed out waiting for a websocket message")
	}
	return nil
}

// nextIDs reads n event messages (those with an id) and returns the ids.
func (c *wsClient) nextIDs(t *testing.T, n int) []int64 {
	t.Helper()
	var ids []int64
	for len(ids) < n {
		m := c.next(t)
		s, ok := m["id"].(string)
		if !ok {
			continue
		}
		id, _ := strconv.ParseInt(s, 10, 64)
		ids = append(ids, id)
	}
	return ids
}

type pollResp struct {
	Events []struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		Data      json.RawMessage `json:"data"`
		Timestamp int64           `json:"timestamp"`
	} `json:"events"`
	LastEventID string `json:"lastEventId"`
}

func poll(t *testing.T, base, path string, hdr map[string]string) (int, pollResp) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	defer resp.Body.Close()
	var pr pollResp
	if resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(&pr); err != nil {
			t.Fatalf("poll body: %v", err)
		}
	}
	return resp.StatusCode, pr
}

func (p pollResp) ids() []int64 {
	var ids []int64
	for _, e := range p.Events {
		id, _ := strconv.ParseInt(e.ID, 10, 64)
		ids = append(ids, id)
	}
	return ids
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func modelEvent(channel, typ, data string) model.Event {
	return model.Event{Channel: channel, Type: typ, Data: json.RawMessage(data)}
}

// counterValue reads a counter or gauge with the given transport label (or
// none) from reg.
func counterValue(t *testing.T, reg *prometheus.Registry, name, transport string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := transport == ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "transport" && l.GetValue() == transport {
					match = true
				}
			}
			if !match {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}
