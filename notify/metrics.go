package notify

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	connections *prometheus.GaugeVec
	published   prometheus.Counter
	delivered   *prometheus.CounterVec
	replayed    *prometheus.CounterVec
	slow        *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	reconnects  prometheus.Counter
	refused     prometheus.Counter

	// By transport index (see transportIndex), to skip label lookups on
	// the delivery path.
	deliveredBy [3]prometheus.Counter
	latencyBy   [3]prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "birjob_notify_connections",
			Help: "Open client connections by transport.",
		}, []string{"transport"}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "birjob_notify_events_published_total",
			Help: "Events read from the event log by this node's hub.",
		}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "birjob_notify_events_delivered_total",
			Help: "Events written to clients, by transport.",
		}, []string{"transport"}),
		replayed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "birjob_notify_events_replayed_total",
			Help: "Events replayed to resuming clients (memory ring or database), by transport.",
		}, []string{"transport"}),
		slow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "birjob_notify_slow_disconnects_total",
			Help: "Clients disconnected because they fell behind, by transport.",
		}, []string{"transport"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "birjob_notify_delivery_latency_seconds",
			Help:    "Time from an event's insert to its write to a client, by transport.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"transport"}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "birjob_notify_streams_refused_total",
			Help: "New streams answered 503 because the node held its maximum (BIRJOB_MAX_STREAMS).",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "birjob_notify_listen_reconnects_total",
			Help: "Times the LISTEN connection to PostgreSQL was lost and re-established.",
		}),
	}
	for _, t := range []string{TransportSSE, TransportWS, TransportPoll} {
		m.connections.WithLabelValues(t)
		m.slow.WithLabelValues(t)
		m.replayed.WithLabelValues(t)
		m.deliveredBy[transportIndex(t)] = m.delivered.WithLabelValues(t)
		m.latencyBy[transportIndex(t)] = m.latency.WithLabelValues(t)
	}
	for _, c := range []prometheus.Collector{m.connections, m.published, m.delivered, m.replayed, m.slow, m.latency, m.reconnects, m.refused} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if ok := asAlreadyRegistered(err, &are); !ok {
				panic(err)
			}
		}
	}
	return m
}

func asAlreadyRegistered(err error, are *prometheus.AlreadyRegisteredError) bool {
	e, ok := err.(prometheus.AlreadyRegisteredError)
	if ok {
		*are = e
	}
	return ok
}
