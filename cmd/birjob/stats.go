package main

import (
	"context"
	"time"

	"github.com/birjob/birjob/api"
	"github.com/birjob/birjob/storage"
)

// sampleStats writes this node's counters to stats_samples every
// api.StatsSampleInterval (at once on start, so a fresh node is counted),
// for the admin page's cluster statistics: open streams by transport (when
// the node serves them) and the matching done since the previous sample
// (when it matches). A failed write is logged and the next one tried.
func (p *parts) sampleStats(a *App) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		tick := time.NewTicker(api.StatsSampleInterval)
		defer tick.Stop()
		var lastMatched, matched int64
		var lastTime, took time.Duration
		for {
			smp := storage.StatsSample{Node: a.cfg.Node}
			if p.hub != nil {
				st := p.hub.Stats()
				smp.ConnSSE, smp.ConnWS, smp.ConnPoll = st.Connections["sse"], st.Connections["ws"], st.Connections["poll"]
				smp.Subscriptions = st.Subscriptions
			}
			if p.matcher != nil {
				st := p.matcher.Stats()
				matched, took = st.Matched, st.MatchTime
				smp.Matched, smp.MatchSeconds = int(matched-lastMatched), (took - lastTime).Seconds()
			}
			// A failed write leaves its matching to the next sample.
			if err := a.store.AddStatsSample(ctx, smp, api.StatsKeep); err != nil {
				if ctx.Err() == nil {
					a.log.Warn("write stats sample", "err", err)
				}
			} else {
				lastMatched, lastTime = matched, took
			}
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
		}
	}
}
