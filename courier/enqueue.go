package courier

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// match is one new-job event of a user's channel, as the courier reads it.
type match struct {
	id     int64
	user   int64
	at     time.Time
	data   []byte
	alerts []int64
}

// enqueueAll takes every event after kind's cursor into the queue.
func (c *Courier) enqueueAll(ctx context.Context, kind string) error {
	for {
		n, err := c.enqueue(ctx, kind)
		if err != nil || n < c.cfg.Batch {
			return err
		}
	}
}

// enqueue takes one batch of events after kind's cursor into the queue and
// advances the cursor past them, in one transaction: an event is queued
// exactly once per kind, however the node stops. It returns how many
// events it read.
func (c *Courier) enqueue(ctx context.Context, kind string) (int, error) {
	var read int
	err := c.store.Tx(ctx, func(tx *storage.Store) error {
		cur, err := tx.CourierCursor(ctx, kind)
		if err != nil {
			return err
		}
		var matches []match
		last := cur
		read, err = tx.EventsAfter(ctx, cur, c.cfg.Batch, func(id int64, ch, typ string, at time.Time, data []byte) error {
			last = id
			if m, ok := parseMatch(id, ch, typ, at, data); ok {
				matches = append(matches, m)
			}
			return nil
		})
		if err != nil || read == 0 {
			return err
		}
		items, err := c.items(ctx, tx, kind, matches)
		if err != nil {
			return err
		}
		if _, err := tx.Enqueue(ctx, items); err != nil {
			return err
		}
		return tx.SetCourierCursor(ctx, kind, last)
	})
	return read, err
}

// parseMatch picks the events the courier sends: a matcher's new-job
// events on a user's channel, with the alerts that matched.
func parseMatch(id int64, ch, typ string, at time.Time, data []byte) (match, bool) {
	rest, ok := strings.CutPrefix(ch, "user:")
	if !ok || typ != model.EventNewJob {
		return match{}, false
	}
	user, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return match{}, false
	}
	var ev model.JobEvent
	if json.Unmarshal(data, &ev) != nil || len(ev.Alerts) == 0 || ev.Title == "" {
		return match{}, false // published by hand, not by the matcher
	}
	return match{id: id, user: user, at: at, data: data, alerts: ev.Alerts}, true
}

// items turns matches into queue rows of kind: for push one per
// subscription of the user, for mail one per alert that mails (instant or
// daily). Alerts that are paused, muted, gone, or not the channel owner's
// are skipped.
func (c *Courier) items(ctx context.Context, tx *storage.Store, kind string, matches []match) ([]storage.QueueItem, error) {
	if len(matches) == 0 {
		return nil, nil
	}
	var alertIDs, userIDs []int64
	for _, m := range matches {
		alertIDs = append(alertIDs, m.alerts...)
		userIDs = append(userIDs, m.user)
	}
	alerts, err := tx.CourierAlerts(ctx, alertIDs)
	if err != nil {
		return nil, err
	}
	var targets map[int64][]int64
	if kind == storage.CourierPush {
		if targets, err = tx.PushTargets(ctx, userIDs); err != nil {
			return nil, err
		}
	}
	now := c.now()
	var out []storage.QueueItem
	for _, m := range matches {
		for _, aid := range m.alerts {
			a, ok := alerts[aid]
			if !ok || a.Paused || a.Muted || a.UserID != m.user {
				continue
			}
			it := storage.QueueItem{Kind: kind, EventID: m.id, AlertID: aid, UserID: m.user,
				Data: m.data, EventAt: m.at, DueAt: now.Add(c.cfg.BurstWindow)}
			switch {
			case kind == storage.CourierPush:
				for _, t := range targets[m.user] {
					it.Target = t
					out = append(out, it)
				}
			case a.Email == model.EmailInstant:
				out = append(out, it)
			case a.Email == model.EmailDaily:
				it.Kind, it.DueAt = storage.CourierDigest, nextDigest(now, a.TimeZone, c.cfg.DigestHour)
				out = append(out, it)
			}
		}
	}
	return out, nil
}

// nextDigest is the first moment at hour:00 of the time zone after now
// (UTC when the zone is unknown).
func nextDigest(now time.Time, tz string, hour int) time.Time {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	l := now.In(loc)
	t := time.Date(l.Year(), l.Month(), l.Day(), hour, 0, 0, 0, loc)
	if !t.After(now) {
		t = time.Date(l.Year(), l.Month(), l.Day()+1, hour, 0, 0, 0, loc)
	}
	return t
}
