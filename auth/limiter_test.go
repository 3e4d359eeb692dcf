package auth_test

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/storage"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newLimiter(t *testing.T) *auth.Limiter {
	t.Helper()
	return auth.NewLimiter(storage.New(pgtest.New(t)), auth.DefaultLimits(), slog.New(slog.DiscardHandler))
}

// TestLimiter_SlowDownBounded: the per-email delay is none for the first
// failures, then grows with each one, and never passes Limits.SlowMax
// however many there are; counted through the database from a new
// address each time (as an attacker spread over many would), no attempt
// is refused.
func TestLimiter_SlowDownBounded(t *testing.T) {
	l := newLimiter(t)
	lim := auth.DefaultLimits()
	var prev time.Duration
	for f := 0; f <= 1000; f++ {
		d := l.SlowDown(f)
		switch {
		case f < lim.SlowAfter && d != 0:
			t.Fatalf("SlowDown(%d) = %s, want none below %d failures", f, d, lim.SlowAfter)
		case d < prev:
			t.Fatalf("SlowDown(%d) = %s, less than SlowDown(%d) = %s", f, d, f-1, prev)
		case d > lim.SlowMax:
			t.Fatalf("SlowDown(%d) = %s, more than the cap %s", f, d, lim.SlowMax)
		}
		prev = d
	}
	if l.SlowDown(lim.SlowAfter) != lim.SlowStep || l.SlowDown(lim.SlowAfter+1) != 2*lim.SlowStep || prev != lim.SlowMax {
		t.Errorf("SlowDown: %s at %d failures, %s at %d, %s at 1000; want %s, %s, the cap %s",
			l.SlowDown(lim.SlowAfter), lim.SlowAfter, l.SlowDown(lim.SlowAfter+1), lim.SlowAfter+1, prev, lim.SlowStep, 2*lim.SlowStep, lim.SlowMax)
	}

	ctx := t.Context()
	var delays []time.Duration
	for i := range 40 {
		att, err := l.Attempt(ctx, fmt.Sprintf("198.51.100.%d", i+1), "victim@example.com")
		if err != nil {
			t.Fatalf("attempt %d from a fresh address: %v, want it counted, not refused", i, err)
		}
		if att.Failures["email"] != i+1 {
			t.Fatalf("attempt %d: email count %d", i, att.Failures["email"])
		}
		delays = append(delays, att.Delay)
	}
	if delays[0] != 0 || delays[lim.SlowAfter] != lim.SlowStep || delays[39] != lim.SlowMax {
		t.Errorf("delays %v: want 0 first, %s after %d failures, %s (the cap) at the end", delays, lim.SlowStep, lim.SlowAfter, lim.SlowMax)
	}
}

// TestLimiter_ConcurrentBurst: 40 attempts at once from one address (each
// for another email) are counted atomically: exactly Limits.PerAddress pass
// and the rest are refused with a wait within the window.
func TestLimiter_ConcurrentBurst(t *testing.T) {
	l := newLimiter(t)
	lim := auth.DefaultLimits()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := l.Attempt(t.Context(), "203.0.113.5", fmt.Sprintf("u%d@example.com", i))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	passed := 0
	for err := range errs {
		var le *auth.LimitedError
		switch {
		case err == nil:
			passed++
		case errors.As(err, &le):
			if le.Wait <= 0 || le.Wait > lim.Window {
				t.Errorf("refused with wait %s, want within (0, %s]", le.Wait, lim.Window)
			}
		default:
			t.Fatal(err)
		}
	}
	if passed != lim.PerAddress {
		t.Errorf("%d of 40 concurrent attempts passed, want exactly %d", passed, lim.PerAddress)
	}
	// Another address is not concerned.
	if _, err := l.Attempt(t.Context(), "203.0.113.6", "u1@example.com"); err != nil {
		t.Errorf("another address: %v", err)
	}
}

// TestLimiter_PerAddressEmail: the 6th failure from an address for one
// email is refused (the same address may still try other emails, and
// other addresses this one); a success clears the pair's count, and takes
// back its own count on the address.
func TestLimiter_PerAddressEmail(t *testing.T) {
	l := newLimiter(t)
	ctx := t.Context()
	for i := range 4 {
		if _, err := l.Attempt(ctx, "192.0.2.1", "Ann@Example.com"); err != nil {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	ok, err := l.Attempt(ctx, "192.0.2.1", " ann@example.com") // the same email, told differently
	if err != nil || ok.Failures["addr_email"] != 5 {
		t.Fatalf("5th attempt: %+v, %v; want counted as the 5th for the pair", ok, err)
	}
	if err := ok.Succeeded(ctx); err != nil {
		t.Fatal(err)
	}
	att, err := l.Attempt(ctx, "192.0.2.1", "ann@example.com")
	if err != nil || att.Failures["addr_email"] != 1 || att.Failures["addr"] != 5 {
		t.Fatalf("after a success: %+v, %v; want the pair at 1 and the address at 5 (4 failures and this)", att, err)
	}
	for range 4 {
		if _, err := l.Attempt(ctx, "192.0.2.1", "ann@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	var le *auth.LimitedError
	if _, err := l.Attempt(ctx, "192.0.2.1", "ann@example.com"); !errors.As(err, &le) {
		t.Fatalf("6th failure in a row for the pair: %v, want refused", err)
	}
	if _, err := l.Attempt(ctx, "192.0.2.1", "bob@example.com"); err != nil {
		t.Errorf("the same address for another email: %v", err)
	}
	if _, err := l.Attempt(ctx, "192.0.2.2", "ann@example.com"); err != nil {
		t.Errorf("another address for the same email: %v", err)
	}
}

// TestLimiter_IPv6Slash64: the addresses of one IPv6 /64 share counters
// (a host can pick any of them); another /64 does not.
func TestLimiter_IPv6Slash64(t *testing.T) {
	l := newLimiter(t)
	ctx := t.Context()
	for i := range 5 {
		if _, err := l.Attempt(ctx, fmt.Sprintf("2001:db8:1:2::%x", i+1), "ann@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	var le *auth.LimitedError
	if _, err := l.Attempt(ctx, "2001:db8:1:2:ffff::9", "ann@example.com"); !errors.As(err, &le) {
		t.Errorf("6th from the same /64: %v, want refused", err)
	}
	if _, err := l.Attempt(ctx, "2001:db8:1:3::1", "ann@example.com"); err != nil {
		t.Errorf("another /64: %v", err)
	}
}

// TestLimiter_Action: an address may make Limits.PerAddressAction
// signups in a window, then is refused; each action counts on its own.
func TestLimiter_Action(t *testing.T) {
	l := newLimiter(t)
	ctx := t.Context()
	lim := auth.DefaultLimits()
	for i := range lim.PerAddressAction {
		if err := l.Action(ctx, "signup", "192.0.2.9"); err != nil {
			t.Fatalf("signup %d: %v", i+1, err)
		}
	}
	var le *auth.LimitedError
	if err := l.Action(ctx, "signup", "192.0.2.9"); !errors.As(err, &le) || le.Wait <= 0 {
		t.Fatalf("one signup too many: %v, want refused with a wait", err)
	}
	if err := l.Action(ctx, "forgot", "192.0.2.9"); err != nil {
		t.Errorf("another action: %v", err)
	}
	if err := l.Action(ctx, "signup", "192.0.2.10"); err != nil {
		t.Errorf("another address: %v", err)
	}
}

// BenchmarkLimiter_Attempt is the cost the limits add to a sign-in: one
// upsert of three counters (and a success's take-back), against the test
// database.
func BenchmarkLimiter_Attempt(b *testing.B) {
	l := auth.NewLimiter(storage.New(pgtest.New(b)), auth.DefaultLimits(), slog.New(slog.DiscardHandler))
	ctx := b.Context()
	i := 0
	for b.Loop() {
		i++
		att, err := l.Attempt(ctx, fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), fmt.Sprintf("u%d@example.com", i%1000))
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			if err := att.Succeeded(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
}
