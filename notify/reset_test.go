package notify

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/model"
)

// TestStreams_ResetAheadOfLog: a resume from beyond the end of the log (a
// restored backup, a confused client) gets a reset naming the newest id as
// the position to continue from, on every transport, and the stream then
// goes on live from there.
func TestStreams_ResetAheadOfLog(t *testing.T) {
	n := newFeedNode(t, Config{})
	var newest int64
	for range 3 {
		newest = appendEv(t, n.hub.pool, "jobs", "new-job", `{}`)
	}
	waitUntil(t, "hub caught up", func() bool { return n.hub.Cursor() >= newest })
	ahead := strconv.FormatInt(newest+1000, 10)
	pos := strconv.FormatInt(newest, 10)
	checkResetData := func(what string, data []byte) {
		t.Helper()
		var d struct{ LastEventID, Reason string }
		if err := json.Unmarshal(data, &d); err != nil || d.LastEventID != pos || d.Reason != "ahead of the log" {
			t.Errorf("%s: reset data %s, want lastEventId %s and reason \"ahead of the log\"", what, data, pos)
		}
	}

	var sses []*sseClient
	for _, path := range []string{"/api/events/jobs", "/api/events?channels=jobs,me"} {
		c := openSSE(t, n.srv.URL, path, map[string]string{"X-Test-User": "1", "Last-Event-ID": ahead})
		c.connected(t)
		f := c.next(t)
		if f.Event != model.EventReset || f.ID != pos {
			t.Fatalf("%s: frame %+v, want id %s event reset", path, f, pos)
		}
		checkResetData(path, []byte(f.Data))
		sses = append(sses, c)
	}

	start := time.Now()
	status, r := poll(t, n.srv.URL, "/api/poll?channels=jobs,me&timeout=20000&lastEventId="+ahead, alice)
	if status != 200 || len(r.Events) != 1 || r.Events[0].Type != model.EventReset || r.LastEventID != pos {
		t.Fatalf("poll: %d %+v, want one reset event and lastEventId %s", status, r, pos)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("the poll was held instead of answered with the reset")
	}
	checkResetData("poll", r.Events[0].Data)

	ws := dialWS(t, n.srv.URL, nil)
	ws.next(t)
	ws.send(t, `{"type":"join","room":"jobs","lastEventId":"`+ahead+`"}`)
	if j := ws.next(t); j["type"] != "joined" {
		t.Fatalf("joined = %v", j)
	}
	if m := ws.next(t); m["type"] != model.EventReset || m["room"] != "jobs" || m["lastEventId"] != pos {
		t.Fatalf("ws: %v, want {type: reset, room: jobs, lastEventId: %s}", m, pos)
	}

	// Live from the reset's position: nothing lost after it.
	id := appendEv(t, n.hub.pool, "jobs", "new-job", `{}`)
	for i, c := range sses {
		if got := c.nextIDs(t, 1); got[0] != id {
			t.Errorf("sse %d after reset: %v, want %d", i, got, id)
		}
	}
	if got := ws.nextIDs(t, 1); got[0] != id {
		t.Errorf("ws after reset: %v, want %d", got, id)
	}
	if _, r := poll(t, n.srv.URL, "/api/poll?channels=jobs,me&timeout=5000&lastEventId="+pos, alice); !equalIDs(r.ids(), []int64{id}) {
		t.Errorf("poll after reset: %v, want [%d]", r.ids(), id)
	}
}

// TestHub_ResumeOnNodeBehind: a client resuming on a node that has not yet
// read as far as the client's position (it came from a node ahead of this
// one) gets no reset and no duplicate: the node catches up and the client
// continues after its position.
func TestHub_ResumeOnNodeBehind(t *testing.T) {
	pool := pgtest.New(t)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// A hub that is not running: its cursor stays at 0 until the test
	// makes it catch up.
	h := NewHub(pool, Config{}, log, nil)
	h.readyOnce.Do(func() { close(h.ready) })
	mux := http.NewServeMux()
	h.Routes(mux)
	srv := httptest.NewServer(testAuth(mux))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Shutdown(ctx)
		srv.CloseClientConnections()
		srv.Close()
	})
	var ids []int64
	for range 4 {
		ids = append(ids, appendEv(t, pool, "jobs", "new-job", `{}`))
	}
	from := strconv.FormatInt(ids[1], 10)
	c := openSSE(t, srv.URL, "/api/events/jobs", map[string]string{"Last-Event-ID": from})
	c.connected(t)
	type res struct {
		status int
		r      pollResp
	}
	pr := make(chan res, 1)
	go func() {
		s, r := poll(t, srv.URL, "/api/poll/jobs?timeout=20000&lastEventId="+from, nil)
		pr <- res{s, r}
	}()
	waitUntil(t, "poll waiting", func() bool { return h.Stats().Connections["poll"] == 1 })
	if err := h.catchUp(t.Context(), h.store); err != nil {
		t.Fatal(err)
	}
	want := ids[2:]
	var got []int64
	for len(got) < len(want) {
		f := c.next(t)
		if f.Event == model.EventReset {
			t.Fatalf("reset %+v from a node that is only behind", f)
		}
		if f.HasID {
			id, _ := strconv.ParseInt(f.ID, 10, 64)
			got = append(got, id)
		}
	}
	if !equalIDs(got, want) {
		t.Errorf("sse: got %v, want %v", got, want)
	}
	if p := <-pr; p.status != 200 || !equalIDs(p.r.ids(), want) {
		t.Errorf("poll: %d %v, want %v", p.status, p.r.ids(), want)
	}
}
