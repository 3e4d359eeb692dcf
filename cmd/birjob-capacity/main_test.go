package main

import (
	"math"
	"net"
	"os"
	"testing"
	"time"
)

// The unwanted-events report splits a node's CPU into a part per wake-up
// and a part per event from a straight line through (rate, CPU share).
func TestFit(t *testing.T) {
	a, b := fit([]float64{1000, 2000, 4000}, []float64{0.011, 0.013, 0.017})
	if math.Abs(a-0.009) > 1e-9 || math.Abs(b-2e-6) > 1e-12 {
		t.Fatalf("fit = %v, %v; want 0.009, 2e-6", a, b)
	}
	if a, b := fit([]float64{1000, 1000}, []float64{1, 2}); a != 0 || b != 0 {
		t.Fatalf("fit of one rate = %v, %v; want 0, 0", a, b)
	}
}

func TestProcReadersOnSelf(t *testing.T) {
	pid := os.Getpid()
	if rss(pid) <= 0 || fdCount(pid) <= 0 || fdLimit(pid) == "?" {
		t.Fatalf("rss %d, descriptors %d, limit %s", rss(pid), fdCount(pid), fdLimit(pid))
	}
	start := procCPU(pid)
	for deadline := time.Now().Add(5 * time.Second); procCPU(pid) == start && time.Now().Before(deadline); {
	}
	if procCPU(pid) <= start {
		t.Fatal("procCPU did not grow while this process spun")
	}
}

// Only loopback addresses are ever dialled.
func TestOpenSSERefusesOtherAddresses(t *testing.T) {
	for _, c := range []struct {
		src  net.IP
		addr string
	}{{net.IPv4(127, 0, 0, 2), "10.0.0.1:80"}, {net.IPv4(10, 0, 0, 2), "127.0.0.1:80"}, {net.IPv4(127, 0, 0, 2), "example.com:80"}} {
		if _, err := openSSE(t.Context(), c.src, c.addr, "jobs", time.Second); err == nil {
			t.Errorf("openSSE from %s to %s: no error", c.src, c.addr)
		}
	}
	if isLoopbackURL("http://10.0.0.1:80") || !isLoopbackURL("http://127.0.0.1:8080") {
		t.Error("isLoopbackURL")
	}
}

func TestReadMarkers(t *testing.T) {
	a, b := net.Pipe()
	out := make(chan string, 4)
	go readMarkers(a, out)
	go func() {
		b.Write([]byte("event: new-job\nid: 7\ndata: {\"marker\":\"m-1\"}\n\n: keepalive\ndata: {\"title\":\"x\"}\n"))
		b.Close()
	}()
	if got := <-out; got != "m-1" {
		t.Fatalf("marker %q", got)
	}
	if _, ok := <-out; ok {
		t.Fatal("a second marker, or the channel was not closed at the end of the stream")
	}
}
