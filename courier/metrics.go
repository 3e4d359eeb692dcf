package courier

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	pushSent, pushFailed, pushRetried prometheus.Counter
	mailSent, mailFailed, mailRetried prometheus.Counter
	oldest                            *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &metrics{
		pushSent:    counter("birjob_push_sent_total", "Web Push messages the push services accepted."),
		pushFailed:  counter("birjob_push_failed_total", "Web Push messages given up on (subscription gone, refused, or out of attempts)."),
		pushRetried: counter("birjob_push_retried_total", "Web Push sends that failed and were scheduled again."),
		mailSent:    counter("birjob_mail_sent_total", "Mails handed to the SMTP server (or kept in the outbox)."),
		mailFailed:  counter("birjob_mail_failed_total", "Mails given up on after their last attempt."),
		mailRetried: counter("birjob_mail_retried_total", "Mail sends that failed and were scheduled again."),
		oldest: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "birjob_courier_oldest_unsent_seconds",
			Help: "Age of the oldest event still to be sent, by kind (push, mail, digest; a digest's events count once its hour has come); 0 when none.",
		}, []string{"kind"}),
	}
	if reg != nil {
		reg.MustRegister(m.pushSent, m.pushFailed, m.pushRetried, m.mailSent, m.mailFailed, m.mailRetried, m.oldest)
	}
	return m
}
