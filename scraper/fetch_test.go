package scraper

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestBaseTransport_RefusesLoopback dials a local server through the
// scraper's transport: refused (naming the setting) without AllowPrivate,
// served with it. The address table itself is tested in internal/netguard.
func TestBaseTransport_RefusesLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	get := func(allowPrivate bool) error {
		c := &http.Client{Transport: newBaseTransport(allowPrivate, nil, 5*time.Second)}
		resp, err := c.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(false); !errors.Is(err, ErrForbiddenAddress) || !strings.Contains(err.Error(), "BIRJOB_ALLOW_PRIVATE") {
		t.Fatalf("loopback without AllowPrivate: err = %v, want ErrForbiddenAddress naming BIRJOB_ALLOW_PRIVATE", err)
	}
	if err := get(true); err != nil {
		t.Fatalf("loopback with AllowPrivate: %v", err)
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
