package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/birjob/birjob/api"
	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/notify"
	"github.com/birjob/birjob/storage"
)

const publishWait = 15 * time.Second

// publishAuth stands in for the auth middleware: X-Test-User carries the
// user id, X-Test-Admin: 1 makes it an admin.
func publishAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("X-Test-User"); v != "" {
			id, _ := strconv.ParseInt(v, 10, 64)
			p := auth.Principal{UserID: id, Email: v + "@test", Admin: r.Header.Get("X-Test-Admin") == "1"}
			r = r.WithContext(auth.WithPrincipal(r.Context(), p))
		}
		next.ServeHTTP(w, r)
	})
}

var (
	pubAlice = map[string]string{"X-Test-User": "1"}
	pubAdmin = map[string]string{"X-Test-User": "99", "X-Test-Admin": "1"}
)

func postPublish(t *testing.T, base, channel string, hdr map[string]string, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/publish/"+channel, bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// startHub runs a hub on a fresh database, serving its streams and
// POST /api/publish.
func startHub(t *testing.T) (*notify.Hub, *storage.Store, string) {
	t.Helper()
	pool := pgtest.New(t)
	store := storage.New(pool)
	hub := notify.NewHub(pool, notify.Config{}, slog.New(slog.DiscardHandler), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); hub.Run(ctx) }()
	mux := http.NewServeMux()
	hub.Routes(mux)
	api.New(store, nil).WithHub(hub).Routes(mux)
	srv := httptest.NewServer(publishAuth(mux))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		hub.Shutdown(sctx)
		scancel()
		cancel()
		<-done
		srv.CloseClientConnections()
		srv.Close()
	})
	return hub, store, srv.URL
}

// sseFrame is one SSE event frame (comments skipped).
type sseFrame struct{ id, event, data string }

// openEvents opens an SSE stream and returns its event frames as they come.
func openEvents(t *testing.T, url string) <-chan sseFrame {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		cancel()
		t.Fatalf("GET %s: %v %v", url, resp, err)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	frames := make(chan sseFrame, 100)
	go func() {
		defer close(frames)
		sc := bufio.NewScanner(resp.Body)
		var f sseFrame
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ":")
			v = strings.TrimPrefix(v, " ")
			switch k {
			case "id":
				f.id = v
			case "event":
				f.event = v
			case "data":
				f.data = v
			case "":
				if sc.Text() == "" && f.event != "" {
					frames <- f
					f = sseFrame{}
				}
			}
		}
	}()
	return frames
}

func nextFrame(t *testing.T, frames <-chan sseFrame) sseFrame {
	t.Helper()
	select {
	case f, ok := <-frames:
		if !ok {
			t.Fatal("stream ended")
		}
		return f
	case <-time.After(publishWait):
		t.Fatal("timed out waiting for an SSE frame")
	}
	return sseFrame{}
}

// pollUntil polls cond until it holds or the deadline passes.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(publishWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPublish(t *testing.T) {
	hub, store, base := startHub(t)
	if _, err := store.DB().Exec(t.Context(), `INSERT INTO feeds (name) VALUES ('remote-go')`); err != nil {
		t.Fatal(err)
	}
	c := openEvents(t, base+"/api/events/jobs")
	if f := nextFrame(t, c); f.event != "connected" {
		t.Fatalf("first frame = %+v, want event connected", f)
	}
	pollUntil(t, "subscribed", func() bool { return hub.MemberCount("jobs") == 1 })

	if s, _ := postPublish(t, base, "jobs", nil, `{"type":"note","data":{}}`); s != 401 {
		t.Errorf("anonymous publish: %d", s)
	}
	if s, _ := postPublish(t, base, "jobs", pubAlice, `{"type":"note","data":{}}`); s != 403 {
		t.Errorf("user publish: %d", s)
	}
	if s, _ := postPublish(t, base, "nope", pubAdmin, `{"type":"note","data":{}}`); s != 404 {
		t.Errorf("unknown feed publish: %d", s)
	}
	for _, body := range []string{`{"data":{}}`, `{"type":"Bad Type"}`, `{"type":"connected"}`, `{"type":"reset"}`, `{"type":"session-ended"}`, `{"type":"position"}`, `{"type":`, `[]`} {
		if s, m := postPublish(t, base, "jobs", pubAdmin, body); s != 400 || m["error"] == "" {
			t.Errorf("publish %s: %d %v, want 400", body, s, m)
		}
	}
	s, m := postPublish(t, base, "jobs", pubAdmin, `{"type":"announcement","data":{"text":"hi"}}`)
	if s != 200 || m["published"] != true || m["clientCount"] != float64(1) {
		t.Fatalf("publish: %d %v", s, m)
	}
	f := nextFrame(t, c)
	if f.event != "announcement" || f.data != `{"channel":"jobs","text":"hi"}` || f.id != m["id"] {
		t.Fatalf("published frame %+v", f)
	}
	if s, _ := postPublish(t, base, "remote-go", pubAdmin, `{"type":"new-job"}`); s != 200 {
		t.Errorf("feed publish: %d", s)
	}
	s, m = postPublish(t, base, "user:1", pubAdmin, `{"type":"new-job","data":{"n":1}}`)
	if s != 200 {
		t.Fatalf("user publish: %d", s)
	}
	// The hub reads the log after the NOTIFY: a poll with a 1 ms timeout
	// that arrives before that answers "nothing yet" (and would get the
	// event from the next poll), so wait for the hub first.
	id, _ := strconv.ParseInt(fmt.Sprint(m["id"]), 10, 64)
	pollUntil(t, "hub read the publish", func() bool { return id > 0 && hub.Cursor() >= id })
	// Stored, so it replays.
	req, _ := http.NewRequest("GET", base+"/api/poll/me?lastEventId=0&timeout=1", nil)
	for k, v := range pubAlice {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Events []struct {
			Data json.RawMessage `json:"data"`
		} `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("poll body: %v", err)
	}
	if len(r.Events) != 1 || string(r.Events[0].Data) != `{"channel":"me","n":1}` {
		t.Fatalf("replayed user publish: %+v", r)
	}
}
