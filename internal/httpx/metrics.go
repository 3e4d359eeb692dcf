package httpx

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts HTTP requests by route (the ServeMux pattern that served
// them, so ids in paths do not make a label each), method and status, and
// times them. Streams (the patterns in streaming) are counted when they
// end, but not timed: an SSE stream or a WebSocket lasts as long as the
// tab, which would drown the latency of everything else.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
	stream   func(pattern string) bool
}

// NewMetrics registers the HTTP metrics on reg. stream tells which
// patterns are long-lived streams.
func NewMetrics(reg prometheus.Registerer, stream func(pattern string) bool) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "birjob_http_requests_total",
			Help: "HTTP requests answered, by route (mux pattern), method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "birjob_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route and method (streams excluded).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route", "method"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "birjob_http_requests_in_flight",
			Help: "HTTP requests being answered now, streams included.",
		}),
		stream: stream,
	}
	reg.MustRegister(m.requests, m.duration, m.inflight)
	return m
}

// Wrap measures the requests mux serves. It must wrap the ServeMux itself
// (not a handler in front of it that copies the request), since the mux
// records the pattern on the request it is handed.
func (m *Metrics) Wrap(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inflight.Inc()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			defer m.inflight.Dec() // last: a request is in flight until it is counted
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			} else if _, p, ok := strings.Cut(route, " "); ok {
				route = p // "GET /api/jobs" → "/api/jobs": the method is a label of its own
			}
			status := sw.status
			if status == 0 && sw.hijacked && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
				status = http.StatusSwitchingProtocols
			} else if status == 0 {
				status = http.StatusOK // nothing written, or a stream that writes its own headers
			}
			m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
			if !m.stream(route) {
				m.duration.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
			}
		}()
		mux.ServeHTTP(sw, r)
	})
}

// statusWriter remembers the status written; it passes Flush, Hijack and
// Unwrap through, so streams and WebSocket upgrades work through it.
type statusWriter struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
