package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// Hub is what publishing needs of this node's notification hub
// (*notify.Hub).
type Hub interface {
	// PublishTarget maps the channel named in the URL to the stored
	// channel. A refusal's error has a method HTTPStatus() int.
	PublishTarget(ctx context.Context, name string) (string, error)
	// MemberCount is the number of this node's subscribers of a stored
	// channel.
	MemberCount(channel string) int
}

// eventType is the shape of a published event's type.
var eventType = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// reservedTypes are the transports' control messages; publishing them would
// confuse clients.
var reservedTypes = map[string]bool{
	model.EventConnected: true, model.EventReset: true, "welcome": true, "joined": true, "left": true,
	"pong": true, "error": true, "ping": true, "position": true, "session-ended": true,
}

// publish serves POST /api/publish/{channel} (admins): the event is
// appended to the log like any other, so it is delivered by every node and
// replays too. The answer's clientCount is the number of this node's
// subscribers of the channel when it was stored.
func (s *Server) publish(w http.ResponseWriter, r *http.Request) {
	pr, ok := auth.RequireAdmin(w, r)
	if !ok {
		return
	}
	name := r.PathValue("channel")
	var channel string
	var err error
	if name == model.ChannelMe {
		channel = model.UserChannel(pr.UserID)
	} else {
		channel, err = s.hub.PublishTarget(r.Context(), name)
	}
	if err != nil {
		writeTargetError(w, r, err)
		return
	}
	var body struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if !httpx.DecodeJSON(w, r, &body) {
		return
	}
	if !eventType.MatchString(body.Type) {
		httpx.Error(w, http.StatusBadRequest, `"type" must be 1-64 lowercase letters, digits, '.', '_' or '-' (e.g. "new-job")`)
		return
	}
	if reservedTypes[body.Type] {
		httpx.Errorf(w, http.StatusBadRequest, "%q is a control message of the protocol; choose another type", body.Type)
		return
	}
	ids, err := s.store.AppendEvents(r.Context(), model.Event{Channel: channel, Type: body.Type, Data: body.Data})
	if err != nil {
		if errors.Is(err, storage.ErrBadEvent) {
			httpx.Error(w, http.StatusBadRequest, err.Error())
			return
		}
		httpx.ServerError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"published":   true,
		"clientCount": s.hub.MemberCount(channel),
		"id":          strconv.FormatInt(ids[0], 10),
	})
}

// writeTargetError answers a publish target the hub refused (with the
// refusal's status), or could not look up.
func writeTargetError(w http.ResponseWriter, r *http.Request, err error) {
	var refusal interface {
		error
		HTTPStatus() int
	}
	switch {
	case errors.As(err, &refusal):
		httpx.Error(w, refusal.HTTPStatus(), refusal.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		httpx.Error(w, http.StatusServiceUnavailable, "the event stream is not ready yet; retry")
	default:
		httpx.ServerError(w, r, err)
	}
}
