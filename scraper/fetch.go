package scraper

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/birjob/birjob/internal/netguard"
)

// ErrForbiddenAddress is returned when a request would reach an address
// that is not public (loopback, private, link-local, NAT64, 6to4, reserved:
// the table is internal/netguard's) and Config.AllowPrivate is off.
var ErrForbiddenAddress = netguard.ErrForbidden

// newBaseTransport is the HTTP transport of the service's fetches. It
// ignores proxy environment variables: a proxy would dial the target itself
// and bypass the address check. Unless allowPrivate, only public addresses
// and the exact ip:port addresses of allow are dialled.
func newBaseTransport(allowPrivate bool, allow []string, requestTimeout time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = guard(allow) // on the address dialled, after DNS: covers redirects and rebinding
	}
	return &http.Transport{
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: requestTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       60 * time.Second,
		ForceAttemptHTTP2:     true,
	}
}

// guard is netguard.Control letting through the exact addresses of allow
// ("127.0.0.1:8080": the demo board this node serves), and no other port
// or address of their ranges.
func guard(allow []string) func(network, address string, c syscall.RawConn) error {
	ok := map[netip.AddrPort]bool{}
	for _, a := range allow {
		if ap, err := netip.ParseAddrPort(a); err == nil {
			ok[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())] = true
		}
	}
	return func(network, address string, c syscall.RawConn) error {
		if ap, err := netip.ParseAddrPort(address); err == nil && ok[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())] {
			return nil
		}
		return netguard.Control(network, address, c)
	}
}

// hostLimiter spaces requests to each host by an interval and caps their
// concurrency. Waiting honours the request's context, unlike colly's
// LimitRule, whose sleeps cannot be interrupted.
type hostLimiter struct {
	interval time.Duration
	parallel int

	mu    sync.Mutex
	hosts map[string]*hostSlot
}

type hostSlot struct {
	sem  chan struct{}
	next time.Time
}

func newHostLimiter(interval time.Duration, parallel int) *hostLimiter {
	if parallel <= 0 {
		parallel = 1
	}
	return &hostLimiter{interval: interval, parallel: parallel, hosts: map[string]*hostSlot{}}
}

// acquire waits for a free slot of host and its turn; the returned func
// releases the slot.
func (h *hostLimiter) acquire(ctx context.Context, host string) (func(), error) {
	h.mu.Lock()
	s := h.hosts[host]
	if s == nil {
		s = &hostSlot{sem: make(chan struct{}, h.parallel)}
		h.hosts[host] = s
	}
	h.mu.Unlock()
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release := func() { <-s.sem }
	if h.interval > 0 {
		h.mu.Lock()
		now := time.Now()
		at := s.next
		if at.Before(now) {
			at = now
		}
		s.next = at.Add(h.interval)
		h.mu.Unlock()
		if wait := time.Until(at); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				release()
				return nil, ctx.Err()
			}
		}
	}
	return release, nil
}

// politeTransport applies, before each request, the run's own limiter (a
// source's delay and parallelism), the node-wide per-host parallelism and
// the cluster-wide host state (back-off and spacing, in host_state); it
// holds the slots until the body is closed, and records what the response
// says about the host.
type politeTransport struct {
	base  http.RoundTripper
	hosts *hostLimiter
	run   *hostLimiter
	svc   *Service
}

func (t *politeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	var releases []func()
	releaseAll := func() {
		for _, r := range releases {
			r()
		}
	}
	for _, l := range []*hostLimiter{t.run, t.hosts} {
		if l == nil || (l == t.hosts && loopbackHost(req.URL.Hostname())) {
			// The node-wide politeness is for other people's servers; a
			// board on this machine (the in-process demo board) is not
			// one. A source's own delay still applies.
			continue
		}
		key := req.URL.Host
		if l == t.run {
			key = ""
		}
		rel, err := l.acquire(ctx, key)
		if err != nil {
			releaseAll()
			return nil, err
		}
		releases = append(releases, rel)
	}
	var failures int
	host := hostKey(req.URL.Host)
	if t.svc != nil {
		spacing := t.svc.cfg.DomainInterval
		if loopbackHost(req.URL.Hostname()) {
			spacing = 0 // a board on this machine needs no spacing; its back-off still holds
		}
		var err error
		if failures, err = t.svc.hostTurn(ctx, host, spacing); err != nil {
			releaseAll()
			return nil, err
		}
	}
	resp, err := t.base.RoundTrip(req)
	if t.svc != nil {
		t.svc.recordOutcome(ctx, host, failures, resp, err)
		t.svc.metrics.fetched(resp, err)
	}
	if err != nil {
		releaseAll()
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: releaseAll}
	return resp, nil
}

type releasingBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// loopbackHost reports whether host names this machine.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
