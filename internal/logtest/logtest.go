// Package logtest gives tests a slog handler that passes on one attribute
// of every record: a way to wait on what a component logs (a retry's
// delay, say) instead of sleeping.
package logtest

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// Durations returns a logger whose records' duration attribute key is sent
// on the returned channel (buffered; a value is dropped when it is full).
func Durations(key string) (*slog.Logger, <-chan time.Duration) {
	ch := make(chan time.Duration, 100)
	return slog.New(durations{key: key, ch: ch}), ch
}

type durations struct {
	key string
	ch  chan time.Duration
}

func (durations) Enabled(context.Context, slog.Level) bool { return true }

func (h durations) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == h.key {
			select {
			case h.ch <- a.Value.Duration():
			default:
			}
		}
		return true
	})
	return nil
}

func (h durations) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h durations) WithGroup(string) slog.Handler      { return h }

// WaitAtLeast waits, up to a minute, until ch passes a duration of at
// least d (a retry delay that has grown that far), and fails t otherwise.
func WaitAtLeast(t testing.TB, ch <-chan time.Duration, d time.Duration) {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		select {
		case got := <-ch:
			if got >= d {
				return
			}
		case <-deadline:
			t.Fatalf("the logged delay never reached %s", d)
		}
	}
}
