package notify

import (
	"strconv"
	"testing"
	"time"

	"github.com/birjob/birjob/internal/pgtest"
)

func TestPoll_Conformance(t *testing.T) {
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{RingSize: 4})
	base := n.srv.URL

	// Without lastEventId: only what comes after the request; an empty
	// answer on timeout carries the position to continue from.
	old := appendEv(t, pool, "jobs", "new-job", `{"old":true}`)
	waitUntil(t, "hub caught up", func() bool { return n.hub.Cursor() >= old })
	status, r := poll(t, base, "/api/poll/jobs?timeout=50", nil)
	if status != 200 || len(r.Events) != 0 || r.LastEventID != strconv.FormatInt(old, 10) {
		t.Fatalf("fresh poll: %d %+v", status, r)
	}

	// Held until an event arrives.
	type res struct {
		status int
		r      pollResp
	}
	done := make(chan res, 1)
	go func() {
		s, r := poll(t, base, "/api/poll/jobs?timeout=20000&lastEventId="+r.LastEventID, nil)
		done <- res{s, r}
	}()
	waitUntil(t, "poll waiting", func() bool { return n.hub.Stats().Connections["poll"] == 1 })
	id := appendEv(t, pool, "jobs", "new-job", `{"n":1}`)
	got := <-done
	if got.status != 200 || !equalIDs(got.r.ids(), []int64{id}) || got.r.LastEventID != strconv.FormatInt(id, 10) {
		t.Fatalf("held poll: %+v", got)
	}
	e := got.r.Events[0]
	if e.Type != "new-job" || string(e.Data) != `{"channel":"jobs","n":1}` || e.Timestamp == 0 {
		t.Fatalf("event shape %+v", e)
	}

	// Events between polls are not lost: answered at once, from the ring
	// and, when older than the ring, from the database.
	var missed []int64
	for i := range 10 {
		missed = append(missed, appendEv(t, pool, "jobs", "new-job", `{"i":`+strconv.Itoa(i)+`}`))
	}
	waitUntil(t, "hub caught up", func() bool { return n.hub.Cursor() >= missed[9] })
	pos := strconv.FormatInt(id, 10)
	var all []int64
	for len(all) < len(missed) {
		status, r := poll(t, base, "/api/poll/jobs?timeout=10000&lastEventId="+pos, nil)
		if status != 200 || len(r.Events) == 0 {
			t.Fatalf("catch-up poll: %d %+v", status, r)
		}
		all = append(all, r.ids()...)
		pos = r.LastEventID
	}
	if !equalIDs(all, missed) {
		t.Fatalf("caught up %v, want %v", all, missed)
	}
	// Timeout is capped and parsed.
	if status, _ := poll(t, base, "/api/poll/jobs?timeout=abc", nil); status != 400 {
		t.Fatalf("bad timeout: %d", status)
	}
	start := time.Now()
	if status, r := poll(t, base, "/api/poll/jobs?timeout=0&lastEventId="+pos, nil); status != 200 || len(r.Events) != 0 || r.LastEventID != pos {
		t.Fatalf("timeout=0: %d %+v", status, r)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("timeout=0 held the request")
	}
}
