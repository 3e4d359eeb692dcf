package httpx

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetrics_RouteStatusAndStreams(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, func(route string) bool { return route == "/stream" })
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "404" {
			Error(w, http.StatusNotFound, "no such job")
			return
		}
		WriteJSON(w, http.StatusOK, map[string]string{"id": r.PathValue("id")})
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack() // as the SSE transport does
		if err != nil {
			t.Errorf("hijack through the metrics writer: %v", err)
			return
		}
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		brw.Flush()
		conn.Close()
	})
	srv := httptest.NewServer(m.Wrap(mux))
	defer srv.Close()
	for _, path := range []string{"/api/jobs/1", "/api/jobs/2", "/api/jobs/404", "/stream", "/nowhere"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		bufio.NewReader(resp.Body).WriteTo(new(strings.Builder))
		resp.Body.Close()
	}
	// A hijacked stream's client can read its answer before the handler
	// has returned and been counted: wait until nothing is in flight.
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(m.inflight) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("requests still in flight after every answer was read")
		}
		time.Sleep(time.Millisecond) // polling a gauge the handlers' defers lower; bounded above
	}
	for _, c := range []struct {
		route, status string
		want          float64
	}{
		{"/api/jobs/{id}", "200", 2}, // one label for every id
		{"/api/jobs/{id}", "404", 1},
		{"/stream", "200", 1},
		{"unmatched", "404", 1},
	} {
		if got := testutil.ToFloat64(m.requests.WithLabelValues(c.route, "GET", c.status)); got != c.want {
			t.Errorf("requests{route=%q,status=%s} = %v, want %v", c.route, c.status, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.duration); n != 2 {
		t.Errorf("%d duration series, want 2 (the job route and unmatched; the stream is not timed)", n)
	}
}
