package scraper

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

func TestForbiddenIP(t *testing.T) {
	for _, s := range []string{"127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "::", "fe80::1", "fc00::1", "100.64.0.1", "::ffff:127.0.0.1", "224.0.0.1"} {
		if !forbiddenIP(netip.MustParseAddr(s)) {
			t.Errorf("%s allowed", s)
		}
	}
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "185.12.1.1"} {
		if forbiddenIP(netip.MustParseAddr(s)) {
			t.Errorf("%s refused", s)
		}
	}
	if err := safeControl("tcp4", "127.0.0.1:80", nil); err == nil {
		t.Error("safeControl let loopback through")
	}
}

func TestHostLimiter(t *testing.T) {
	l := newHostLimiter(50*time.Millisecond, 1)
	start := time.Now()
	for i := 0; i < 3; i++ {
		rel, err := l.acquire(context.Background(), "a.example")
		if err != nil {
			t.Fatal(err)
		}
		rel()
	}
	// A lower bound only: a slow machine can only make it longer.
	if el := time.Since(start); el < 100*time.Millisecond {
		t.Errorf("3 requests to one host within %s; the interval is 50ms", el)
	}
	// A held slot blocks the next request until its context ends.
	rel, err := l.acquire(context.Background(), "b.example")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.acquire(ctx, "b.example"); err == nil {
		t.Error("acquired a slot that is held")
	}
	rel()
	if !loopbackHost("127.0.0.1") || !loopbackHost("localhost") || !loopbackHost("::1") || loopbackHost("example.com") {
		t.Error("loopbackHost")
	}
}
