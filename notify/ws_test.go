package notify

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/birjob/birjob/internal/pgtest"
)

func TestWS_Conformance(t *testing.T) {
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{})
	c := dialWS(t, n.srv.URL, nil)
	w := c.next(t)
	if w["type"] != "welcome" || w["clientId"] == "" || w["timestamp"] == nil {
		t.Fatalf("welcome = %v", w)
	}

	c.send(t, `{"type":"join","room":"jobs"}`)
	j := c.next(t)
	if j["type"] != "joined" || j["room"] != "jobs" || j["memberCount"] != float64(1) {
		t.Fatalf("joined = %v", j)
	}
	id := appendEv(t, pool, "jobs", "new-job", `{"title":"x"}`)
	m := c.next(t)
	if m["type"] != "new-job" || m["id"] != strconv.FormatInt(id, 10) || m["room"] != "jobs" || m["timestamp"] == nil {
		t.Fatalf("event = %v", m)
	}
	if d, _ := m["data"].(map[string]any); d["title"] != "x" {
		t.Fatalf("event data = %v", m["data"])
	}

	c.send(t, `{"type":"ping"}`)
	if p := c.next(t); p["type"] != "pong" || p["timestamp"] == nil {
		t.Fatalf("pong = %v", p)
	}
	for _, bad := range []string{`{not json`, `{"type":"dance"}`, `{"room":"jobs"}`, `{"type":"join"}`, `{"type":"join","room":"jobs","lastEventId":"x"}`} {
		c.send(t, bad)
		if e := c.next(t); e["type"] != "error" || e["message"] == "" {
			t.Fatalf("%s → %v, want error", bad, e)
		}
	}
	// The connection is kept after errors.
	c.send(t, `{"type":"leave","room":"jobs"}`)
	if l := c.next(t); l["type"] != "left" {
		t.Fatalf("leave → %v", l)
	}
	appendEv(t, pool, "jobs", "new-job", `{}`)
	// Resume on join, in the "data" form, from the first event.
	c.send(t, `{"type":"join","data":{"room":"jobs","lastEventId":"`+strconv.FormatInt(id, 10)+`"}}`)
	if j := c.next(t); j["type"] != "joined" {
		t.Fatalf("joined = %v", j)
	}
	got := c.nextIDs(t, 1)
	next := appendEv(t, pool, "jobs", "new-job", `{}`)
	got = append(got, c.nextIDs(t, 1)...)
	if got[0] != id+1 || got[1] != next {
		t.Fatalf("after resume got %v, want [%d %d]", got, id+1, next)
	}
}

func TestWS_OriginChecked(t *testing.T) {
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{AllowedOrigins: []string{"app.example.com"}})
	url := "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/api/ws"
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true}, // not a browser
		{n.srv.URL, true},
		{"https://app.example.com", true},
		{"https://evil.example", false},
	} {
		hdr := http.Header{}
		if tc.origin != "" {
			hdr.Set("Origin", tc.origin)
		}
		conn, resp, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{HTTPHeader: hdr})
		if tc.ok != (err == nil) {
			t.Errorf("origin %q: err %v, want ok=%v", tc.origin, err, tc.ok)
		}
		if err == nil {
			conn.CloseNow()
		} else if resp != nil && resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: status %d, want 403", tc.origin, resp.StatusCode)
		}
	}
}

func TestWS_ProtocolPingKeepsAlive(t *testing.T) {
	pool := pgtest.New(t)
	var pongs = make(chan struct{}, 100)
	// A pong must come back within WriteTimeout: 300 ms was tight for a
	// loaded machine under -race (the client's reader and the server's
	// must both be scheduled). Six pings still span twice the timeout.
	n := startNode(t, pool, Config{Keepalive: 400 * time.Millisecond, WriteTimeout: 1200 * time.Millisecond})
	url := "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/api/ws"
	conn, _, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{
		OnPingReceived: func(context.Context, []byte) bool { pongs <- struct{}{}; return true },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	go func() {
		for {
			if _, _, err := conn.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	// Six pings span twice the write timeout: a peer that answers them is
	// kept.
	for range 6 {
		select {
		case <-pongs:
		case <-time.After(waitFor):
			t.Fatal("no protocol ping from the server")
		}
	}
	if got := n.hub.Stats().Connections["ws"]; got != 1 {
		t.Fatalf("answering peer: %d connections, want 1", got)
	}
	if got := counterValue(t, n.reg, "birjob_notify_slow_disconnects_total", "ws"); got != 0 {
		t.Errorf("slow disconnects = %v, want 0", got)
	}
}

// TestWS_SlowClientIsolated: a WebSocket client that stops reading is
// disconnected when its queue fills; another client gets every event.
func TestWS_SlowClientIsolated(t *testing.T) {
	pool := pgtest.New(t)
	// The write timeout is far above any stall of the reading client on a
	// loaded machine (the watchdog enforces it within a tenth): the stuck
	// client goes when its queue fills.
	n := startNode(t, pool, Config{QueueSize: 4, WriteTimeout: 30 * time.Second})
	url := "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/api/ws"
	stuck, _, err := websocket.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.CloseNow()
	// Join, then never read again.
	if err := stuck.Write(context.Background(), websocket.MessageText, []byte(`{"type":"join","room":"jobs"}`)); err != nil {
		t.Fatal(err)
	}
	good := dialWS(t, n.srv.URL, nil)
	good.next(t)
	good.send(t, `{"type":"join","room":"jobs"}`)
	good.next(t)
	waitUntil(t, "both joined", func() bool { return n.hub.MemberCount("jobs") == 2 })

	big := `{"pad":"` + strings.Repeat("x", 256<<10) + `"}`
	for range 60 {
		id := appendEv(t, pool, "jobs", "new-job", big)
		if got := good.nextIDs(t, 1); got[0] != id {
			t.Fatalf("good client got %v, want %d", got, id)
		}
	}
	waitUntil(t, "stuck client dropped", func() bool { return n.hub.Stats().Connections["ws"] == 1 })
	if got := counterValue(t, n.reg, "birjob_notify_slow_disconnects_total", "ws"); got != 1 {
		t.Errorf("slow disconnects = %v, want 1", got)
	}
}

// TestWS_UnansweredPingCloses: a peer that stops reading answers no
// protocol ping; it is closed once a ping has waited WriteTimeout, and
// counted as a slow client, although nothing was queued for it.
func TestWS_UnansweredPingCloses(t *testing.T) {
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{Keepalive: 100 * time.Millisecond, WriteTimeout: 300 * time.Millisecond})
	url := "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/api/ws"
	mute, _, err := websocket.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer mute.CloseNow()
	// Never read: coder/websocket answers pings only from Read. The client
	// is counted, then closed, within about 400 ms: wait for the slow
	// disconnect (counted before it is closed), not for the moment it is
	// counted open, which a stalled test goroutine could miss.
	waitUntil(t, "mute client closed", func() bool {
		return counterValue(t, n.reg, "birjob_notify_slow_disconnects_total", "ws") >= 1 && n.hub.Stats().Connections["ws"] == 0
	})
	if got := counterValue(t, n.reg, "birjob_notify_slow_disconnects_total", "ws"); got != 1 {
		t.Errorf("slow disconnects = %v, want 1", got)
	}
}

// TestWS_InvalidUTF8Closes1007: a text message that is not UTF-8 ends the
// connection with status 1007 (RFC 6455 §8.1), with a reason; a valid one
// on the same kind of connection is answered as before. The client library
// sends text frames as given, so the bytes reach the server unchecked.
func TestWS_InvalidUTF8Closes1007(t *testing.T) {
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{})

	good := dialWS(t, n.srv.URL, nil)
	if m := good.next(t); m["type"] != "welcome" {
		t.Fatalf("first message %v", m)
	}
	good.send(t, `{"type":"ping"}`)
	if m := good.next(t); m["type"] != "pong" {
		t.Fatalf("ping answered with %v", m)
	}

	bad := dialWS(t, n.srv.URL, nil)
	if m := bad.next(t); m["type"] != "welcome" {
		t.Fatalf("first message %v", m)
	}
	bad.send(t, "{\"type\":\"ping\",\"x\":\"\xff\xfe\"}")
	select {
	case m, ok := <-bad.msgs:
		if ok {
			t.Fatalf("invalid UTF-8 answered with %v, want a close", m)
		}
	case <-time.After(waitFor):
		t.Fatal("connection not closed after invalid UTF-8")
	}
	var ce websocket.CloseError
	if !errors.As(bad.err, &ce) || ce.Code != websocket.StatusInvalidFramePayloadData || ce.Reason == "" {
		t.Fatalf("close = %v, want 1007 with a reason", bad.err)
	}
	good.send(t, `{"type":"ping"}`)
	if m := good.next(t); m["type"] != "pong" {
		t.Fatalf("other connection: ping answered with %v", m)
	}
}
