package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/birjob/birjob/storage"
)

// Sign-in limits, shared by every node through PostgreSQL (the
// signin_attempts table, migration 012), and built so that they cannot be
// turned against the person they protect.
//
// Each sign-in attempt is counted, before its password is checked, in one
// upsert on three counters:
//
//   - per client address (ClientIP; an IPv6 client by its /64, which one
//     machine usually holds whole): more than Limits.PerAddress attempts
//     in a window are refused with 429 and Retry-After, for any email;
//   - per address and email: more than Limits.PerAddressEmail are refused
//     the same way;
//   - per email, from any address: never refused. After Limits.SlowAfter
//     attempts the answer is delayed, by Limits.SlowStep doubling with
//     each further one, up to Limits.SlowMax. The delay comes before the
//     password is checked, so its length tells nothing about the answer,
//     and it slows the real person too, but only by seconds: an attacker
//     spread over many addresses cannot lock them out, only make them
//     wait.
//
// A sign-in that succeeds takes its own count back from the address and
// the email (so that only failures are counted) and clears the count of
// its address and email: a person who mistyped can go on. A counter lasts
// a fixed window (Limits.Window) from its first count; a row whose window
// has passed is replaced on the next count, and once a minute, on write,
// such rows are deleted. Other account actions that create things from
// nothing (signup) are counted per address alone (Limits.PerAddressAction).
//
// Counting before checking means a burst of concurrent guesses from one
// address is refused past the limit as surely as a sequence: the upsert
// returns each attempt's own count. When the database cannot be reached
// the attempt fails with its error, which the API answers 503 with
// Retry-After (the password could not have been checked either).

// Limits are the numbers of the sign-in limits.
type Limits struct {
	// Window is how long a counter lasts from its first count.
	Window time.Duration
	// PerAddress is how many failed sign-ins one address may make in a
	// window, whatever the emails; more are refused.
	PerAddress int
	// PerAddressEmail is how many failed sign-ins one address may make
	// for one email in a window; more are refused.
	PerAddressEmail int
	// SlowAfter is how many failed sign-ins for one email, from anywhere,
	// pass without delay in a window.
	SlowAfter int
	// SlowStep is the delay after SlowAfter failures; it doubles with
	// each further one, up to SlowMax.
	SlowStep, SlowMax time.Duration
	// PerAddressAction is how many signups (and other counted actions,
	// each on its own counter) one address may make in a window.
	PerAddressAction int
	// PurgeEvery is how often a node deletes counters past their window
	// (on write: after a count).
	PurgeEvery time.Duration
}

// DefaultLimits are birjob's sign-in limits: 20 failed sign-ins per
// address and 5 per address and email in 10 minutes; from the 4th failure
// for an email, a delay of 250 ms doubling to at most 4 s; 20 signups per
// address in 10 minutes.
func DefaultLimits() Limits {
	return Limits{
		Window:           10 * time.Minute,
		PerAddress:       20,
		PerAddressEmail:  5,
		SlowAfter:        3,
		SlowStep:         250 * time.Millisecond,
		SlowMax:          4 * time.Second,
		PerAddressAction: 20,
		PurgeEvery:       time.Minute,
	}
}

// Counter scopes (signin_attempts.scope).
const (
	scopeAddr      = "addr"
	scopeAddrEmail = "addr_email"
	scopeEmail     = "email"
)

// LimitedError refuses an attempt: too many from this address (or this
// address for this email) in the window. The API answers 429 with
// Retry-After: Wait.
type LimitedError struct {
	Wait time.Duration
}

func (e *LimitedError) Error() string {
	return fmt.Sprintf("too many attempts; try again in %d seconds", retrySeconds(e.Wait))
}

// retrySeconds rounds a wait up to whole seconds, at least 1.
func retrySeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// Limiter counts sign-in attempts in PostgreSQL and applies Limits.
type Limiter struct {
	store     *storage.Store
	lim       Limits
	log       *slog.Logger
	nextPurge atomic.Int64 // unix nanoseconds
}

// NewLimiter returns a limiter on store's signin_attempts.
func NewLimiter(store *storage.Store, lim Limits, log *slog.Logger) *Limiter {
	return &Limiter{store: store, lim: lim, log: log}
}

// Attempt is one counted sign-in attempt: wait Delay, check the password,
// and call Succeeded if it was right.
type Attempt struct {
	// Delay is how long to wait before checking the password (the email's
	// slow-down; zero for most attempts).
	Delay time.Duration
	// Failures are the counts this attempt made, by scope ("addr",
	// "addr_email", "email"); for tests and logs.
	Failures map[string]int

	l         *Limiter
	addrEmail storage.Counter
	refund    []storage.Counter
}

// Attempt counts a sign-in attempt for email from addr (ClientIP). It
// returns a *LimitedError when the attempt is refused, and the database's
// error when the count could not be made.
func (l *Limiter) Attempt(ctx context.Context, addr, email string) (*Attempt, error) {
	a, e := addressKey(addr), emailKey(email)
	addrC := storage.Counter{Scope: scopeAddr, Key: a}
	pairC := storage.Counter{Scope: scopeAddrEmail, Key: a + " " + e}
	emailC := storage.Counter{Scope: scopeEmail, Key: e}
	counts, err := l.store.CountAttempt(ctx, []storage.Counter{addrC, pairC, emailC}, l.lim.Window)
	if err != nil {
		return nil, err
	}
	l.purge(ctx)
	att := &Attempt{Failures: map[string]int{}, l: l, addrEmail: pairC, refund: []storage.Counter{addrC, emailC}}
	refused, wait := false, time.Second
	for _, c := range counts {
		att.Failures[c.Scope] = c.Failures
		if (c.Scope == scopeAddr && c.Failures > l.lim.PerAddress) ||
			(c.Scope == scopeAddrEmail && c.Failures > l.lim.PerAddressEmail) {
			refused, wait = true, max(wait, c.Remaining(l.lim.Window))
		}
	}
	if refused {
		l.log.Warn("sign-in refused: too many failures", "addr", a,
			"addr_failures", att.Failures[scopeAddr], "addr_email_failures", att.Failures[scopeAddrEmail])
		return nil, &LimitedError{Wait: wait}
	}
	// The failures before this attempt set its delay.
	att.Delay = l.SlowDown(att.Failures[scopeEmail] - 1)
	return att, nil
}

// SlowDown is the delay before checking a password for an email that has
// failed this many times in the window: none up to Limits.SlowAfter, then
// Limits.SlowStep doubling with each failure, at most Limits.SlowMax.
func (l *Limiter) SlowDown(failures int) time.Duration {
	n := failures - l.lim.SlowAfter
	if n < 0 || l.lim.SlowStep <= 0 {
		return 0
	}
	d := l.lim.SlowStep
	for ; n > 0 && d < l.lim.SlowMax; n-- {
		d *= 2
	}
	return min(d, l.lim.SlowMax)
}

// Succeeded records that the attempt's password was right: its own counts
// are taken back and its address's failures for this email forgotten.
func (a *Attempt) Succeeded(ctx context.Context) error {
	return a.l.store.UncountAttempt(ctx, a.addrEmail, a.refund)
}

// Action counts an account action (such as "signup") from addr; it
// returns a *LimitedError when the address has made more than
// Limits.PerAddressAction in the window.
func (l *Limiter) Action(ctx context.Context, action, addr string) error {
	counts, err := l.store.CountAttempt(ctx, []storage.Counter{{Scope: action, Key: addressKey(addr)}}, l.lim.Window)
	if err != nil {
		return err
	}
	l.purge(ctx)
	if len(counts) == 1 && counts[0].Failures > l.lim.PerAddressAction {
		l.log.Warn("account action refused: too many from one address", "action", action, "addr", addressKey(addr))
		return &LimitedError{Wait: max(time.Second, counts[0].Remaining(l.lim.Window))}
	}
	return nil
}

// purge deletes the counters past their window, at most once per
// Limits.PurgeEvery on this node; a failure is logged, not returned (the
// next one retries).
func (l *Limiter) purge(ctx context.Context) {
	now := time.Now().UnixNano()
	next := l.nextPurge.Load()
	if now < next || !l.nextPurge.CompareAndSwap(next, now+int64(l.lim.PurgeEvery)) {
		return
	}
	if n, err := l.store.PurgeAttempts(ctx, l.lim.Window); err != nil && !errors.Is(err, context.Canceled) {
		l.log.Warn("purge sign-in counters", "err", err)
	} else if n > 0 {
		l.log.Debug("purged sign-in counters", "count", n)
	}
}

// addressKey is the counter key of a client address: the address, or for
// IPv6 its /64 (one host usually holds the whole /64 and can pick any
// address in it).
func addressKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	if a = a.Unmap().WithZone(""); a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// emailKey is the counter key of an email: a hash of its lower-cased form
// (the table keeps no list of the addresses that were tried).
func emailKey(email string) string {
	h := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(h[:16])
}
