package notify

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/model"
)

// feedCacheTTL is how long a feed's existence is remembered, so that long
// pollers of a feed cost no query per poll.
const feedCacheTTL = time.Minute

// channelError is a refusal to subscribe, with its HTTP status.
type channelError struct {
	status int
	msg    string
}

func (e *channelError) Error() string { return e.msg }

// HTTPStatus is the status to answer the refusal with.
func (e *channelError) HTTPStatus() int { return e.status }

// resolve maps the channel a client names to the stored channel it may
// read: "jobs"; "me" (the signed-in user's own, 401 when anonymous); or an
// existing public feed (404 otherwise).
func (h *Hub) resolve(ctx context.Context, name string) (string, error) {
	switch name {
	case model.ChannelJobs:
		return name, nil
	case model.ChannelMe:
		p, ok := auth.PrincipalFrom(ctx)
		if !ok && auth.Unchecked(ctx) { // the database is down: not the client's fault
			return "", &channelError{http.StatusServiceUnavailable, auth.UncheckedMessage}
		}
		if !ok {
			return "", &channelError{http.StatusUnauthorized, "channel \"me\" needs you signed in (session cookie or Authorization: Bearer token)"}
		}
		return model.UserChannel(p.UserID), nil
	}
	if model.ValidFeedName(name) != nil {
		return "", &channelError{http.StatusNotFound, fmt.Sprintf("no channel %q: use \"jobs\", \"me\" or the name of a public feed", name)}
	}
	ok, err := h.feedExists(ctx, name)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", &channelError{http.StatusNotFound, fmt.Sprintf("no public feed named %q", name)}
	}
	return name, nil
}

// MaxStreamChannels is the most channels one stream or poll may name.
const MaxStreamChannels = 8

// streamChannels reads the channels an SSE or long-poll request names,
// from the path (/api/events/{channel}) or the channels parameter
// (/api/events?channels=jobs,me: comma-separated, 1 to MaxStreamChannels
// distinct names, duplicates ignored), and resolves each like resolve: one
// refused channel refuses the request, and the error names it. It returns
// the names as the client gave them (the stream's room) and the stored
// channels, in the same order.
func (h *Hub) streamChannels(r *http.Request) (names, stored []string, err error) {
	if name := r.PathValue("channel"); name != "" {
		ch, err := h.resolve(r.Context(), name)
		if err != nil {
			return nil, nil, err
		}
		return []string{name}, []string{ch}, nil
	}
	names, err = parseChannels(r.URL.Query()["channels"])
	if err != nil {
		return nil, nil, err
	}
	stored = make([]string, len(names))
	for i, name := range names {
		if stored[i], err = h.resolve(r.Context(), name); err != nil {
			return nil, nil, err
		}
	}
	return names, stored, nil
}

// parseChannels reads the channels parameter (the values of every
// channels=, each a comma-separated list).
func parseChannels(vals []string) ([]string, error) {
	bad := func(format string, args ...any) error {
		return &channelError{http.StatusBadRequest, "channels: " + fmt.Sprintf(format, args...)}
	}
	var names []string
	for _, v := range vals {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				return nil, bad("empty channel name in %q; name channels separated by commas, e.g. channels=jobs,me", v)
			}
			if !slices.Contains(names, name) {
				if len(names) == MaxStreamChannels {
					return nil, bad("at most %d channels on one stream", MaxStreamChannels)
				}
				names = append(names, name)
			}
		}
	}
	if len(names) == 0 {
		return nil, bad("name the channels to follow, e.g. ?channels=jobs,me (or use /api/events/{channel})")
	}
	return names, nil
}

func (h *Hub) feedExists(ctx context.Context, name string) (bool, error) {
	if exp, ok := h.feeds.Load(name); ok && time.Now().Before(exp.(time.Time)) {
		return true, nil
	}
	ok, err := h.store.FeedExists(ctx, name)
	if err != nil {
		return false, fmt.Errorf("notify: %w", err)
	}
	if ok {
		h.feeds.Store(name, time.Now().Add(feedCacheTTL))
	}
	return ok, nil
}

// PublishTarget maps the channel an admin publishes to (as named in the
// URL) to the stored channel: like a subscription's ("jobs", "me", a
// public feed), plus "user:<id>" (admins publish to any user's channel).
// A refusal has a method HTTPStatus() int giving the status to answer with
// (404 for an unknown channel, 401 for "me" without a principal); other
// errors are the database's.
func (h *Hub) PublishTarget(ctx context.Context, name string) (string, error) {
	if rest, ok := strings.CutPrefix(name, "user:"); ok {
		id, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || id <= 0 {
			return "", &channelError{http.StatusNotFound, fmt.Sprintf("no channel %q: a user's channel is user:<numeric id>", name)}
		}
		return model.UserChannel(id), nil
	}
	return h.resolve(ctx, name)
}
