package matcher

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// This file keeps the worker's in-memory indexes current: a full load from
// one snapshot, then the criteria changes committed after it.

// loadBatch is how many alerts a start-up load compiles at a time.
const loadBatch = 20000

// batchAdder is a Matcher that loads many criteria at once (Index).
type batchAdder interface {
	AddBatch(items []Item, onErr func(Item, error))
}

// loadAll builds fresh indexes from every active alert and feed, and sets
// the change cursor from the same snapshot.
func (w *Worker) loadAll(ctx context.Context) error {
	start := time.Now()
	alerts, feeds := w.newIndex(), Matcher(NewBrute())
	feedNames := map[int64]string{}
	var cursor int64
	err := w.store.Snapshot(ctx, func(tx *storage.Store) error {
		var err error
		if cursor, err = tx.CriteriaChangeCursor(ctx); err != nil {
			return err
		}
		if err := w.loadAlerts(ctx, tx, alerts); err != nil {
			return err
		}
		fs, err := tx.ListFeedCriteria(ctx)
		if err != nil {
			return err
		}
		for _, f := range fs {
			w.put(feeds, f.ID, Owner{}, f.Criteria)
			feedNames[f.ID] = f.Name
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.alerts.Store(&matcherBox{alerts})
	w.feeds.Store(&matcherBox{feeds})
	w.feedNames = feedNames
	w.cursor = cursor
	w.loaded = true
	w.log.Info("matcher loaded criteria", "alerts", alerts.Len(), "feeds", feeds.Len(),
		"change_cursor", cursor, "took_ms", time.Since(start).Milliseconds())
	return nil
}

// loadAlerts adds every active alert to an empty index, in batches of
// loadBatch when the index takes batches.
func (w *Worker) loadAlerts(ctx context.Context, tx *storage.Store, alerts Matcher) error {
	if g, ok := alerts.(interface{ Grow(int) }); ok {
		n, err := tx.CountActiveAlerts(ctx)
		if err != nil {
			return err
		}
		g.Grow(n)
	}
	batcher, bulk := alerts.(batchAdder)
	if !bulk {
		return tx.EachActiveAlert(ctx, func(a storage.AlertCriteria) error {
			w.put(alerts, a.ID, Owner{UserID: a.UserID}, a.Criteria)
			return nil
		})
	}
	var batch []Item
	flush := func() {
		batcher.AddBatch(batch, func(it Item, err error) {
			w.log.Warn("skipping invalid criteria", "criteria_id", it.ID, "user_id", it.Owner.UserID, "err", err)
		})
		batch = batch[:0]
	}
	err := tx.EachActiveAlert(ctx, func(a storage.AlertCriteria) error {
		var c model.Criteria
		if err := json.Unmarshal(a.Criteria, &c); err != nil {
			w.log.Warn("skipping criteria that is not valid JSON", "criteria_id", a.ID, "user_id", a.UserID, "err", err)
			return nil
		}
		batch = append(batch, Item{ID: a.ID, Owner: Owner{UserID: a.UserID}, Criteria: c})
		if len(batch) == loadBatch {
			flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(batch) > 0 {
		flush()
	}
	return nil
}

// put adds criteria stored as JSON; bad criteria are logged and left out,
// never stopping the others.
func (w *Worker) put(m Matcher, id int64, owner Owner, crit []byte) {
	var c model.Criteria
	if err := json.Unmarshal(crit, &c); err != nil {
		m.Remove(id)
		w.log.Warn("skipping criteria that is not valid JSON", "criteria_id", id, "user_id", owner.UserID, "err", err)
		return
	}
	if err := m.Update(id, owner, c); err != nil {
		m.Remove(id)
		w.log.Warn("skipping invalid criteria", "criteria_id", id, "user_id", owner.UserID, "err", err)
	}
}

// applyChanges brings the indexes up to every criteria change committed so
// far, reading through st (the pool, or the batch's transaction).
func (w *Worker) applyChanges(ctx context.Context, st *storage.Store) error {
	changes, err := st.CriteriaChangesAfter(ctx, w.cursor)
	if err != nil {
		return err
	}
	purged, err := st.CriteriaChangesPurgedUpTo(ctx)
	if err != nil {
		return err
	}
	if purged > w.cursor {
		w.log.Info("criteria changes were pruned past this node's cursor; reloading", "cursor", w.cursor, "purged_upto", purged)
		return w.loadAll(ctx)
	}
	if len(changes) == 0 {
		return nil
	}
	var alertIDs, feedIDs []int64
	for _, c := range changes {
		if c.Kind == storage.CriteriaChangeAlert {
			alertIDs = append(alertIDs, c.RefID)
		} else {
			feedIDs = append(feedIDs, c.RefID)
		}
	}
	if len(alertIDs) > 0 {
		alertIDs = uniq(alertIDs)
		if err := w.reloadAlerts(ctx, st, alertIDs); err != nil {
			return err
		}
	}
	if len(feedIDs) > 0 {
		feedIDs = uniq(feedIDs)
		if err := w.reloadFeeds(ctx, st, feedIDs); err != nil {
			return err
		}
	}
	last := changes[len(changes)-1].ID
	w.log.Debug("applied criteria changes", "alerts", len(alertIDs), "feeds", len(feedIDs), "change_cursor", last)
	w.cursor = last
	return nil
}

// reloadAlerts reads the alerts ids (sorted) again into the alerts index:
// a paused or deleted one leaves it.
func (w *Worker) reloadAlerts(ctx context.Context, st *storage.Store, ids []int64) error {
	rows, err := st.AlertCriteriaByID(ctx, ids)
	if err != nil {
		return err
	}
	alerts := w.alerts.Load().m
	seen := make(map[int64]bool, len(rows))
	for _, a := range rows {
		seen[a.ID] = true
		if a.Paused {
			alerts.Remove(a.ID)
		} else {
			w.put(alerts, a.ID, Owner{UserID: a.UserID}, a.Criteria)
		}
	}
	for _, id := range ids {
		if !seen[id] {
			alerts.Remove(id)
		}
	}
	return nil
}

// reloadFeeds reads the feeds ids (sorted) again into the feeds index: a
// deleted one leaves it.
func (w *Worker) reloadFeeds(ctx context.Context, st *storage.Store, ids []int64) error {
	rows, err := st.FeedCriteriaByID(ctx, ids)
	if err != nil {
		return err
	}
	feeds := w.feeds.Load().m
	seen := make(map[int64]bool, len(rows))
	for _, f := range rows {
		seen[f.ID] = true
		w.put(feeds, f.ID, Owner{}, f.Criteria)
		w.feedNames[f.ID] = f.Name
	}
	for _, id := range ids {
		if !seen[id] {
			feeds.Remove(id)
			delete(w.feedNames, id)
		}
	}
	return nil
}

func uniq(s []int64) []int64 {
	slices.Sort(s)
	return slices.Compact(s)
}

// prune deletes old criteria changes and records how far it went.
func (w *Worker) prune(ctx context.Context) error {
	return w.store.PruneCriteriaChanges(ctx, w.retention)
}
