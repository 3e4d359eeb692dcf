package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/r3labs/sse/v2"

	"github.com/birjob/birjob/model"
)

// evt is one event of the log as the hub holds it: read once per node and
// encoded once per transport, then shared by every connection.
type evt struct {
	id      int64
	channel string // stored channel
	typ     string
	created time.Time
	// The fields below are made on first use (compact, sseBytes, ...).
	dataOnce, sseOnce, wsOnce, pollOnce, pmOnce sync.Once
	data                                        []byte                     // as stored; compact JSON once compact has run
	sse                                         []byte                     // "id: …\nevent: …\ndata: …\n\n"
	ws                                          []byte                     // {"type":…,"id":"…","room":…,"data":…,"timestamp":ms}
	wsPM                                        *websocket.PreparedMessage // ws as one WebSocket frame, made on first use
	// fanout is how many connections of this node the event was queued
	// for when it arrived (set under the hub's lock before any push).
	fanout int
	poll   []byte // {"id":"…","type":…,"data":…,"timestamp":ms}
	cost   int64  // ringCost, set when the event enters the ring
}

// roomOf is the name a client subscribes to for a stored channel: a user's
// channel is "me" to its owner.
func roomOf(channel string) string {
	if strings.HasPrefix(channel, "user:") {
		return model.ChannelMe
	}
	return channel
}

// cleanType makes an event type safe for one SSE field line.
func cleanType(t string) string {
	if strings.ContainsAny(t, "\r\n") {
		t = strings.NewReplacer("\r", " ", "\n", " ").Replace(t)
	}
	return t
}

func newEvt(id int64, channel, typ string, created time.Time, data []byte) *evt {
	return &evt{id: id, channel: channel, typ: cleanType(typ), created: created, data: data}
}

// Each transport's frame is made on first use, by the first connection
// (or replay) of that transport that needs it: a node reads every event of
// the log, but most events of a large fan-out are for users connected
// elsewhere, or not at all, and a node's clients may all use one transport.

// compact makes e.data compact JSON, once.
func (e *evt) compact() []byte {
	e.dataOnce.Do(func() {
		var buf bytes.Buffer
		if err := json.Compact(&buf, e.data); err != nil || buf.Len() == 0 {
			// Every writer stores valid JSON (AppendEvents checks it); keep the
			// stream well-formed if a row written by hand is not.
			buf.Reset()
			buf.WriteString("null")
		}
		e.data = buf.Bytes()
	})
	return e.data
}

// sseBytes is "id: …\nevent: …\ndata: …\n\n".
func (e *evt) sseBytes() []byte {
	e.sseOnce.Do(func() {
		data := e.compact()
		// JSON compacted has no raw newlines, so one data line.
		e.sse = appendSSE(make([]byte, 0, len(data)+len(e.typ)+40),
			&sse.Event{ID: []byte(strconv.FormatInt(e.id, 10)), Event: []byte(e.typ), Data: data})
	})
	return e.sse
}

// wsBytes is {"type":…,"id":"…","room":…,"data":…,"timestamp":ms}.
func (e *evt) wsBytes() []byte {
	e.wsOnce.Do(func() {
		data := e.compact()
		tq, _ := json.Marshal(e.typ)
		rq, _ := json.Marshal(roomOf(e.channel))
		w := make([]byte, 0, len(data)+len(tq)+len(rq)+64)
		w = append(w, `{"type":`...)
		w = append(w, tq...)
		w = append(w, `,"id":"`...)
		w = strconv.AppendInt(w, e.id, 10)
		w = append(w, `","room":`...)
		w = append(w, rq...)
		w = append(w, `,"data":`...)
		w = append(w, data...)
		w = append(w, `,"timestamp":`...)
		w = strconv.AppendInt(w, e.created.UnixMilli(), 10)
		e.ws = append(w, '}')
	})
	return e.ws
}

// pollBytes is {"id":"…","type":…,"data":…,"timestamp":ms}.
func (e *evt) pollBytes() []byte {
	e.pollOnce.Do(func() {
		data := e.compact()
		tq, _ := json.Marshal(e.typ)
		p := make([]byte, 0, len(data)+len(tq)+48)
		p = append(p, `{"id":"`...)
		p = strconv.AppendInt(p, e.id, 10)
		p = append(p, `","type":`...)
		p = append(p, tq...)
		p = append(p, `,"data":`...)
		p = append(p, data...)
		p = append(p, `,"timestamp":`...)
		p = strconv.AppendInt(p, e.created.UnixMilli(), 10)
		e.poll = append(p, '}')
	})
	return e.poll
}

// wsFrame is the event's WebSocket message framed once for every
// connection (server frames are not masked, so all connections get the
// same bytes).
func (e *evt) wsFrame() *websocket.PreparedMessage {
	e.pmOnce.Do(func() {
		pm, err := websocket.NewPreparedMessage(websocket.TextMessage, e.wsBytes())
		if err != nil { // only for an invalid message type
			panic(err)
		}
		e.wsPM = pm
	})
	return e.wsPM
}

// resetEvt is the control event telling a client that the history it asks
// for is gone and it must reload its state; its id is the position to
// continue from.
func resetEvt(upto int64, channel string) *evt {
	data, _ := json.Marshal(map[string]string{
		"reason":      "the events after your last id are older than the retention and were deleted; reload your state",
		"lastEventId": strconv.FormatInt(upto, 10),
	})
	return newEvt(upto, channel, model.EventReset, time.Now(), data)
}

func nowMs() int64 { return time.Now().UnixMilli() }

// parseID parses an event id as sent back by a client: a decimal int64.
func parseID(s string) (int64, error) {
	s = strings.TrimSpace(s)
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 0 {
		return 0, fmt.Errorf("event id %q is not a decimal number", s)
	}
	return id, nil
}
