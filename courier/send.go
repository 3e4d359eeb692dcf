package courier

import (
	"context"
	"sync"
	"time"

	"github.com/birjob/birjob/storage"
)

// batch is what one read of due groups needs looked up: the alerts (as
// they are now: paused or switched off since the match means not sent) and,
// for pushes, the subscriptions.
type batch struct {
	alerts map[int64]storage.CourierAlert
	subs   map[int64]storage.PushSubscription
}

// sendFunc sends one group (rows of one alert and target) and records the
// outcome. It returns an error only when the courier cannot go on (the
// database, or ctx ended).
type sendFunc func(ctx context.Context, b *batch, group []storage.QueueItem) error

// sendDue sends every due group of kind, Senders at a time, until none is
// due.
func (c *Courier) sendDue(ctx context.Context, kind string, send sendFunc) error {
	for {
		items, err := c.store.DueQueue(ctx, kind, c.now(), c.cfg.Senders*8)
		if err != nil || len(items) == 0 {
			return err
		}
		groups := splitGroups(items)
		b, err := c.lookup(ctx, kind, items)
		if err != nil {
			return err
		}
		if err := c.sendGroups(ctx, b, groups, send); err != nil {
			return err
		}
	}
}

// sendGroups runs send on each group with at most Senders in flight and
// returns the first error.
func (c *Courier) sendGroups(ctx context.Context, b *batch, groups [][]storage.QueueItem, send sendFunc) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		sem   = make(chan struct{}, c.cfg.Senders)
	)
	for _, g := range groups {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := send(ctx, b, g); err != nil {
				once.Do(func() { first = err; cancel() })
			} else if c.afterSend != nil {
				c.afterSend()
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// splitGroups cuts rows ordered by (alert, target, id) into groups.
func splitGroups(items []storage.QueueItem) [][]storage.QueueItem {
	var out [][]storage.QueueItem
	start := 0
	for i := 1; i <= len(items); i++ {
		if i == len(items) || items[i].AlertID != items[start].AlertID || items[i].Target != items[start].Target {
			out = append(out, items[start:i])
			start = i
		}
	}
	return out
}

func (c *Courier) lookup(ctx context.Context, kind string, items []storage.QueueItem) (*batch, error) {
	var alertIDs, subIDs []int64
	for _, it := range items {
		alertIDs = append(alertIDs, it.AlertID)
		subIDs = append(subIDs, it.Target)
	}
	b := &batch{}
	var err error
	if b.alerts, err = c.store.CourierAlerts(ctx, alertIDs); err != nil {
		return nil, err
	}
	if kind == storage.CourierPush {
		if b.subs, err = c.store.PushSubscriptionsByID(ctx, subIDs); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// ids returns the queue ids of a group.
func ids(group []storage.QueueItem) []int64 {
	out := make([]int64, len(group))
	for i, it := range group {
		out[i] = it.ID
	}
	return out
}

// attempts is how many sends of the group have failed so far.
func attempts(group []storage.QueueItem) int {
	n := 0
	for _, it := range group {
		n = max(n, it.Attempts)
	}
	return n
}

// retry schedules the group again after a failed send, or drops it when it
// has had its attempts; it reports whether it dropped it.
func (c *Courier) retry(ctx context.Context, group []storage.QueueItem) (dropped bool, err error) {
	n := attempts(group) + 1
	if n >= c.cfg.MaxAttempts {
		return true, c.store.Dequeue(ctx, ids(group))
	}
	return false, c.store.RetryLater(ctx, ids(group), c.now().Add(c.backoff(n)))
}

// recordCtx is the context that records a send's outcome: it outlives a
// stop of the courier by a few seconds.
func recordCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

func (c *Courier) hook() {
	if c.onSend != nil {
		c.onSend()
	}
}
