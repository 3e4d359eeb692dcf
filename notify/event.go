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

// sseBytes is "id: …\nevent: …\ndata: …\n\n", the data tagged with its
// channel (appendTagged).
func (e *evt) sseBytes() []byte {
	e.sseOnce.Do(func() {
		data := e.appendTagged(nil)
		// JSON compacted has no raw newlines, so one data line.
		e.sse = appendSSE(make([]byte, 0, len(data)+len(e.typ)+40),
			&sse.Event{ID: []byte(strconv.FormatInt(e.id, 10)), Event: []byte(e.typ), Data: data})
	})
	return e.sse
}

// wsBytes is {"type":…,"id":"…","room":…,"data":…,"timestamp":ms} (a
// reset also carries "lastEventId", the position to continue from).
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
		if e.typ == model.EventReset {
			w = append(w, `,"lastEventId":"`...)
			w = strconv.AppendInt(w, e.id, 10)
			w = append(w, '"')
		}
		w = append(w, `,"data":`...)
		w = append(w, data...)
		w = append(w, `,"timestamp":`...)
		w = strconv.AppendInt(w, e.created.UnixMilli(), 10)
		e.ws = append(w, '}')
	})
	return e.ws
}

// pollBytes is {"id":"…","type":…,"data":…,"timestamp":ms}, the data
// tagged with its channel (appendTagged).
func (e *evt) pollBytes() []byte {
	e.pollOnce.Do(func() {
		data := e.compact()
		tq, _ := json.Marshal(e.typ)
		p := make([]byte, 0, len(data)+len(tq)+len(e.channel)+64)
		p = append(p, `{"id":"`...)
		p = strconv.AppendInt(p, e.id, 10)
		p = append(p, `","type":`...)
		p = append(p, tq...)
		p = append(p, `,"data":`...)
		p = e.appendTagged(p)
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

// Reasons of a reset event.
const (
	resetRetention = "the events after your last id are older than the retention and were deleted; reload your state"
	resetAhead     = "ahead of the log"
)

// resetEvt is the control event telling a client that the history it asks
// for is gone (or never was: a position beyond the end of the log) and it
// must reload its state; its id is the position to continue from. channel
// is the stored channel of a one-channel subscription ("" for several):
// a WebSocket reset names its room.
func resetEvt(upto int64, channel, reason string) *evt {
	data, _ := json.Marshal(map[string]string{
		"reason":      reason,
		"lastEventId": strconv.FormatInt(upto, 10),
	})
	return newEvt(upto, channel, model.EventReset, time.Now(), data)
}

// resetChannel is the channel a reset of s names: its one channel, or none.
func (s *sub) resetChannel() string {
	if s.others == nil {
		return s.channel
	}
	return ""
}

// appendTagged appends e's data with the channel it belongs to (as the
// client names it: a user's channel is "me") as the first key, so that a
// stream of several channels tells them apart: {"channel":"jobs",...}.
// Data that is not a JSON object, and control events, are left as they
// are. A "channel" key of the stored data gives way to ours (JSON parsers
// keep the last of duplicate keys, so it would win otherwise).
func (e *evt) appendTagged(b []byte) []byte {
	data := e.compact()
	if len(data) < 2 || data[0] != '{' || e.channel == "" || e.typ == model.EventReset {
		return append(b, data...)
	}
	if bytes.Contains(data, []byte(`"channel"`)) {
		data = withoutKey(data, "channel")
	}
	cq, _ := json.Marshal(roomOf(e.channel))
	b = append(b, `{"channel":`...)
	b = append(b, cq...)
	if len(data) > 2 { // not {}
		b = append(b, ',')
	}
	return append(b, data[1:]...)
}

// withoutKey returns the compact JSON object obj without its top-level key.
func withoutKey(obj []byte, key string) []byte {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return obj
	}
	out := []byte{'{'}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return obj
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return obj
		}
		k, _ := t.(string)
		if k == key {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		kq, _ := json.Marshal(k)
		out = append(out, kq...)
		out = append(out, ':')
		out = append(out, v...)
	}
	return append(out, '}')
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
