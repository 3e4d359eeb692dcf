package notify

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/birjob/birjob/internal/httpx"
)

// handlePoll serves GET /api/poll/{channel}?timeout=<ms>&lastEventId=<id>
// and GET /api/poll?channels=jobs,me&… (several channels, merged in id
// order, from one lastEventId).
//
// It answers at once when events after lastEventId exist (from the memory
// ring, or the database when older), else holds the request on the same
// subscription as the streams until an event arrives, the timeout ends or
// the node shuts down. lastEventId in the answer is the position to
// continue from, so events published between two polls are never lost.
// Without lastEventId the poll starts at the end of the log.
func (h *Hub) handlePoll(w http.ResponseWriter, r *http.Request) {
	from, hasFrom, err := resumePosition(r)
	if err != nil {
		httpx.Error(w, http.StatusBadRequest, "lastEventId: "+err.Error())
		return
	}
	timeout, ok := pollTimeout(r.URL.Query().Get("timeout"))
	if !ok {
		httpx.Error(w, http.StatusBadRequest, "timeout must be a number of milliseconds, 0 or more (larger than "+strconv.FormatInt(h.cfg.PollTimeoutMax.Milliseconds(), 10)+" is capped)")
		return
	}
	timeout = min(timeout, h.cfg.PollTimeoutMax)
	names, channels, err := h.streamChannels(r)
	if err == nil {
		err = h.waitReady(r.Context())
	}
	if err == nil {
		err = h.admit()
	}
	if err != nil {
		writeChannelError(w, r, err)
		return
	}

	c := h.newClient(TransportPoll, nil)
	if err := h.addClient(c, sessionOf(r.Context())); err != nil {
		writeChannelError(w, r, err)
		return
	}
	defer c.finish(false)
	sb, plan, err := h.subscribe(c, channels, strings.Join(names, ","), from, hasFrom)
	if err != nil {
		writeChannelError(w, r, err)
		return
	}
	if plan.fromDB {
		var got []*evt
		err := h.replayDBOnce(r.Context(), sb, plan, func(evs []*evt) error {
			got = append(got, evs...)
			return nil
		})
		if err != nil {
			httpx.ServerError(w, r, err)
			return
		}
		if len(got) > 0 && !c.sessionEnded() {
			h.forget(c)
			h.m.delivered.WithLabelValues(TransportPoll).Add(float64(len(got)))
			writePoll(w, got, got[len(got)-1].id)
			return
		}
	}

	c.mu.Lock()
	ready := len(c.out) > 0
	c.mu.Unlock()
	if !ready && timeout > 0 {
		t := time.NewTimer(timeout)
		select {
		case <-c.wake:
		case <-t.C:
		case <-r.Context().Done():
		case <-h.shutdownCh:
		}
		t.Stop()
	}

	h.answerPoll(w, c, sb)
}

// pollTimeout parses the timeout parameter, a number of milliseconds
// (DefaultPollTimeout when absent). Any number from 0 up is accepted,
// however large (9223372036854775807, 1e30, Infinity): the result
// saturates at maxPollTimeout instead of overflowing into a negative
// duration, which would answer at once and turn the client's loop of
// polls into a busy loop; the caller caps it at PollTimeoutMax. A
// negative number or anything else is refused.
func pollTimeout(v string) (time.Duration, bool) {
	if v == "" {
		return DefaultPollTimeout, true
	}
	ms, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(ms) || ms < 0 {
		return 0, false
	}
	if ms >= float64(maxPollTimeout/time.Millisecond) {
		return maxPollTimeout, true
	}
	return time.Duration(ms * float64(time.Millisecond)), true
}

// maxPollTimeout is where pollTimeout saturates: far above any
// PollTimeoutMax, far below an overflow.
const maxPollTimeout = 24 * time.Hour

// answerPoll ends a long poll: it answers with the events queued for c and
// the position to continue from.
func (h *Hub) answerPoll(w http.ResponseWriter, c *client, sb *sub) {
	if c.sessionEnded() {
		h.forget(c)
		writeSessionEnded(w)
		return
	}
	// Forget the subscription first: after it nothing more is queued, and
	// every event of the channel up to the cursor read here is in the queue.
	h.mu.Lock()
	cursor := h.cursor
	h.mu.Unlock()
	h.forget(c)
	items, _ := c.take()
	c.mu.Lock()
	pos := sb.last
	if !c.full && cursor > pos {
		pos = cursor
	}
	c.mu.Unlock()
	evs := make([]*evt, 0, len(items))
	for _, it := range items {
		if it.ev != nil {
			evs = append(evs, it.ev)
		}
	}
	h.delivered(TransportPoll, items)
	writePoll(w, evs, pos)
}

// replayDBOnce is replayDB for long polls: one page (the client continues
// from the last id of the answer), or a reset.
func (h *Hub) replayDBOnce(ctx context.Context, s *sub, plan replayPlan, collect func([]*evt) error) error {
	if plan.ahead {
		return h.resolveAhead(ctx, s, plan, collect)
	}
	purged, err := h.purgedUpto(ctx)
	if err != nil {
		return err
	}
	if plan.from < purged {
		return collect([]*evt{resetEvt(plan.upto, s.resetChannel(), resetRetention)})
	}
	evs, err := h.replayPage(ctx, s.channels(), plan.from, plan.upto)
	if err != nil {
		return err
	}
	if len(evs) > 0 {
		h.m.replayed.WithLabelValues(TransportPoll).Add(float64(len(evs)))
		return collect(evs)
	}
	h.endReplay(s, plan.upto)
	return nil
}

func writePoll(w http.ResponseWriter, evs []*evt, pos int64) {
	n := 32
	for _, e := range evs {
		n += len(e.pollBytes()) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"events":[`...)
	for i, e := range evs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.pollBytes()...)
	}
	b = append(b, `],"lastEventId":"`...)
	b = strconv.AppendInt(b, pos, 10)
	b = append(b, "\"}\n"...)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}
