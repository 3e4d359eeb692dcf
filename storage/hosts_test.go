package storage_test

import (
	"testing"
	"time"

	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/storage"
)

// TestStore_HostTurns: turns reserved by two stores on one database (two
// nodes) are spaced by the spacing, in the order they were reserved; a
// paused host reserves nothing; a pause is never shortened; a success ends
// the failures.
func TestStore_HostTurns(t *testing.T) {
	db := pgtest.New(t)
	nodes := []*storage.Store{storage.New(db), storage.New(db)}
	const spacing = 200 * time.Millisecond
	var last time.Time
	for i := range 4 {
		turn, err := nodes[i%2].ReserveHostTurn(t.Context(), "jobs.example", spacing)
		if err != nil {
			t.Fatal(err)
		}
		if turn.At.IsZero() || (i > 0 && turn.At.Sub(last) < spacing) {
			t.Fatalf("turn %d at %v, the one before at %v: want %s apart", i, turn.At, last, spacing)
		}
		last = turn.At
	}

	long := func(int) time.Duration { return time.Hour }
	short := func(int) time.Duration { return time.Second }
	if _, err := nodes[0].RecordHostFailure(t.Context(), "jobs.example", "HTTP 429, Retry-After: 3600", long); err != nil {
		t.Fatal(err)
	}
	h, err := nodes[1].RecordHostFailure(t.Context(), "jobs.example", "HTTP 502", short)
	if err != nil {
		t.Fatal(err)
	}
	if h.Failures != 2 || h.PausedUntil.Sub(h.Now) < 59*time.Minute || h.Reason != "HTTP 429, Retry-After: 3600" {
		t.Fatalf("a shorter pause shortened a longer one: %+v", h)
	}
	turn, err := nodes[1].ReserveHostTurn(t.Context(), "jobs.example", spacing)
	if err != nil || !turn.At.IsZero() || !turn.Paused() {
		t.Fatalf("a paused host gave a turn: %+v %v", turn, err)
	}
	if turn, err := nodes[1].ReserveHostTurn(t.Context(), "other.example", 0); err != nil || turn.At.IsZero() || turn.Paused() {
		t.Fatalf("another host is paused too: %+v %v", turn, err)
	}
	if err := nodes[0].RecordHostSuccess(t.Context(), "jobs.example"); err != nil {
		t.Fatal(err)
	}
	if h, _ := nodes[1].GetHostState(t.Context(), "jobs.example"); h.Failures != 0 || h.Reason != "" {
		t.Errorf("after a success: %+v", h)
	}
}
