package notify

import (
	"context"
	"fmt"
	"net/http"
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
