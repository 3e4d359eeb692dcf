package notify

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/model"
)

// eventType is the shape of a published event's type.
var eventType = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// reservedTypes are the transports' control messages; publishing them would
// confuse clients.
var reservedTypes = map[string]bool{
	model.EventConnected: true, "welcome": true, "joined": true, "left": true,
	"pong": true, "error": true, "ping": true,
}

// handlePublish serves POST /api/publish/{channel} (admins): the event is
// appended to the log like any other, so it replays too. clientCount is the
// number of this node's subscribers of the channel when it was stored.
func (h *Hub) handlePublish(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.RequireAdmin(w, r)
	if !ok {
		return
	}
	name := r.PathValue("channel")
	var channel string
	var err error
	if name == model.ChannelMe {
		channel = model.UserChannel(p.UserID)
	} else {
		channel, err = h.resolvePublish(r.Context(), name)
	}
	if err != nil {
		writeChannelError(w, r, err)
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
	ids, err := Append(r.Context(), h.pool, model.Event{Channel: channel, Type: body.Type, Data: body.Data})
	if err != nil {
		if errors.Is(err, ErrBadEvent) {
			httpx.Error(w, http.StatusBadRequest, err.Error())
			return
		}
		httpx.ServerError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"published":   true,
		"clientCount": h.memberCount(channel),
		"id":          strconv.FormatInt(ids[0], 10),
	})
}
