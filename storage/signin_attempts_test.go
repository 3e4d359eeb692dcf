package storage_test

import (
	"testing"
	"time"

	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/storage"
)

// TestStore_SigninAttempts: one upsert counts every counter it is given;
// a counter past its window starts over at 1; UncountAttempt takes one
// count back and zeroes the cleared counter; the purge deletes only the
// counters past their window.
func TestStore_SigninAttempts(t *testing.T) {
	db := pgtest.New(t)
	ctx := t.Context()
	s := storage.New(db)
	const window = 10 * time.Minute
	addr := storage.Counter{Scope: "addr", Key: "192.0.2.1"}
	pair := storage.Counter{Scope: "addr_email", Key: "192.0.2.1 e1"}
	email := storage.Counter{Scope: "email", Key: "e1"}
	failures := func(cs []storage.Count) map[string]int {
		m := map[string]int{}
		for _, c := range cs {
			m[c.Scope] = c.Failures
		}
		return m
	}
	var got []storage.Count
	for range 3 {
		var err error
		// The order given does not matter; duplicates count once.
		got, err = s.CountAttempt(ctx, []storage.Counter{email, addr, pair, addr}, window)
		if err != nil {
			t.Fatal(err)
		}
	}
	if m := failures(got); len(got) != 3 || m["addr"] != 3 || m["addr_email"] != 3 || m["email"] != 3 {
		t.Fatalf("after 3 counts: %+v", got)
	}
	if r := got[0].Remaining(window); r <= 0 || r > window {
		t.Errorf("remaining %s, want within (0, %s]", r, window)
	}

	if err := s.UncountAttempt(ctx, pair, []storage.Counter{addr, email}); err != nil {
		t.Fatal(err)
	}
	now, err := s.AttemptCounts(ctx, []storage.Counter{addr, pair, email})
	if err != nil {
		t.Fatal(err)
	}
	if m := failures(now); m["addr"] != 2 || m["addr_email"] != 0 || m["email"] != 2 {
		t.Fatalf("after UncountAttempt: %+v, want addr 2, addr_email 0, email 2", now)
	}

	// The address's window ended 1 minute ago: its next count starts a
	// new window at 1, and the purge takes it (and only it) before that.
	if _, err := db.Exec(ctx, `UPDATE signin_attempts SET window_start = now() - interval '11 minutes' WHERE scope = 'addr'`); err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgeAttempts(ctx, window)
	if err != nil || n != 1 {
		t.Fatalf("purge: %d, %v; want the 1 counter past its window", n, err)
	}
	if _, err := db.Exec(ctx, `UPDATE signin_attempts SET window_start = now() - interval '11 minutes' WHERE scope = 'email'`); err != nil {
		t.Fatal(err)
	}
	got, err = s.CountAttempt(ctx, []storage.Counter{addr, pair, email}, window)
	if err != nil {
		t.Fatal(err)
	}
	if m := failures(got); m["addr"] != 1 || m["addr_email"] != 1 || m["email"] != 1 {
		t.Fatalf("after the windows ended: %+v, want 1 each", got)
	}
	for _, c := range got {
		if r := c.Remaining(window); r < window-time.Minute {
			t.Errorf("%s: remaining %s, want a new window", c.Scope, r)
		}
	}
}
