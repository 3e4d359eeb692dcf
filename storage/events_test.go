package storage_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

func event(channel, typ, data string) model.Event {
	return model.Event{Channel: channel, Type: typ, Data: json.RawMessage(data)}
}

func TestStore_AppendEvents_IDsInOrder(t *testing.T) {
	s := storage.New(pgtest.New(t))
	ids := []int64{}
	for i := range 3 {
		got, err := s.AppendEvents(t.Context(), event("jobs", "new-job", fmt.Sprintf(`{"n":%d}`, i)))
		if err != nil {
			t.Fatalf("append: %v", err)
		}
		ids = append(ids, got[0])
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("ids not increasing: %v", ids)
		}
	}
	if _, err := s.AppendEvents(t.Context()); err != nil {
		t.Fatalf("empty append: %v", err)
	}
	if _, err := s.AppendEvents(t.Context(), event("", "x", "1")); err == nil {
		t.Fatal("append without channel succeeded")
	} else if !errors.Is(err, storage.ErrBadEvent) {
		t.Errorf("append without channel: %v, want ErrBadEvent", err)
	}
	if _, err := s.AppendEvents(t.Context(), event("jobs", "x", "{bad")); err == nil {
		t.Fatal("append of bad JSON succeeded")
	} else if !errors.Is(err, storage.ErrBadEvent) {
		t.Errorf("append of bad JSON: %v, want ErrBadEvent", err)
	}
}

// TestStore_Events_ReadAndPurge reads the log back (all channels from a
// cursor, one channel in a range) and purges a prefix of it.
func TestStore_Events_ReadAndPurge(t *testing.T) {
	ctx := t.Context()
	s := storage.New(pgtest.New(t))
	if end, err := s.LastEventID(ctx); err != nil || end != 0 {
		t.Fatalf("empty log end = %d, %v", end, err)
	}
	ids, err := s.AppendEvents(ctx, event("jobs", "new-job", `{"n": 1}`), event("other", "x", ""), event("jobs", "new-job", `{"n":2}`))
	if err != nil {
		t.Fatal(err)
	}
	if end, err := s.LastEventID(ctx); err != nil || end != ids[2] {
		t.Fatalf("log end = %d, %v, want %d", end, err, ids[2])
	}
	type row struct {
		id         int64
		ch, typ, d string
	}
	var got []row
	collect := func(id int64, channel, typ string, created time.Time, data []byte) error {
		if created.IsZero() {
			t.Errorf("event %d without created_at", id)
		}
		got = append(got, row{id, channel, typ, string(data)})
		return nil
	}
	n, err := s.EventsAfter(ctx, ids[0], 10, collect)
	want := []row{{ids[1], "other", "x", "null"}, {ids[2], "jobs", "new-job", `{"n":2}`}}
	if err != nil || n != 2 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("EventsAfter = %d %v %v, want %v", n, got, err, want)
	}
	got = nil
	n, err = s.ChannelEvents(ctx, []string{"jobs"}, 0, ids[2], 1, collect)
	if want := []row{{ids[0], "jobs", "new-job", `{"n": 1}`}}; err != nil || n != 1 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ChannelEvents = %d %v %v, want %v", n, got, err, want)
	}
	// Several channels: merged in id order, whatever the order named.
	got = nil
	n, err = s.ChannelEvents(ctx, []string{"other", "jobs"}, 0, ids[2], 10, collect)
	if want := []row{{ids[0], "jobs", "new-job", `{"n": 1}`}, {ids[1], "other", "x", "null"}, {ids[2], "jobs", "new-job", `{"n":2}`}}; err != nil || n != 3 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ChannelEvents of two channels = %d %v %v, want %v", n, got, err, want)
	}
	if end, err := s.LogEnd(ctx); err != nil || end != ids[2] {
		t.Fatalf("LogEnd = %d, %v, want %d", end, err, ids[2])
	}
	stop := errors.New("stop")
	if _, err := s.EventsAfter(ctx, 0, 10, func(int64, string, string, time.Time, []byte) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("EventsAfter with a failing fn: %v", err)
	}

	if upto, err := s.PurgedUpto(ctx); err != nil || upto != 0 {
		t.Fatalf("purged_upto = %d, %v", upto, err)
	}
	if upto, err := s.LastEventOlderThan(ctx, time.Hour); err != nil || upto != 0 {
		t.Fatalf("events older than an hour: %d, %v", upto, err)
	}
	if upto, err := s.LastEventOlderThan(ctx, -time.Hour); err != nil || upto != ids[2] {
		t.Fatalf("events older than an hour from now: %d, %v, want %d", upto, err, ids[2])
	}
	err = s.Tx(ctx, func(tx *storage.Store) error { return tx.PurgeEventsUpto(ctx, ids[1]) })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PurgeEventsUpto(ctx, ids[0]); err != nil { // never lowers the mark
		t.Fatal(err)
	}
	if upto, err := s.PurgedUpto(ctx); err != nil || upto != ids[1] {
		t.Fatalf("purged_upto = %d, %v, want %d", upto, err, ids[1])
	}
	got = nil
	if _, err := s.EventsAfter(ctx, 0, 10, collect); err != nil || len(got) != 1 || got[0].id != ids[2] {
		t.Fatalf("after purge: %v %v", got, err)
	}
	// A log emptied by the retention still ends where it was.
	if err := s.PurgeEventsUpto(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	if end, err := s.LogEnd(ctx); err != nil || end != ids[2] {
		t.Fatalf("LogEnd of a purged log = %d, %v, want %d", end, err, ids[2])
	}
}

// BenchmarkStore_AppendEvents measures writing events to the log: one event
// (a publish) and a batch of 1,000 (a matcher transaction with many targets,
// as in the personal-channel load run).
func BenchmarkStore_AppendEvents(b *testing.B) {
	s := storage.New(pgtest.New(b))
	for _, n := range []int{1, 1000} {
		evs := make([]model.Event, n)
		for i := range evs {
			evs[i] = event(model.UserChannel(int64(i+1)), "new-job", `{"title":"Go developer","company":"Acme","sent":1}`)
		}
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.AppendEvents(b.Context(), evs...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
	}
}
