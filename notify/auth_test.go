package notify

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/model"
)

var (
	alice = map[string]string{"X-Test-User": "1"}
	bob   = map[string]string{"X-Test-User": "2"}
)

// TestAuth_Channels checks who may subscribe to what, on every transport,
// and that a user never receives another user's events.
func TestAuth_Channels(t *testing.T) {
	pool := pgtest.New(t)
	if _, err := pool.Exec(t.Context(), `INSERT INTO feeds (name) VALUES ('job-alerts-baku')`); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, pool, Config{})
	base := n.srv.URL

	for _, tc := range []struct {
		channel string
		hdr     map[string]string
		status  int
	}{
		{"jobs", nil, 200},
		{"me", nil, 401},
		{"me", alice, 200},
		{"job-alerts-baku", nil, 200},
		{"no-such-feed", alice, 404},
		{"user:2", alice, 404},
		{"user%3A2", alice, 404},
		{"JOBS", nil, 404},
	} {
		t.Run(tc.channel, func(t *testing.T) {
			c, status, body := tryOpenSSE(t, base, "/api/events/"+tc.channel, tc.hdr)
			if c != nil {
				c.close()
			}
			if status != tc.status {
				t.Errorf("sse %s: %d %s, want %d", tc.channel, status, body, tc.status)
			}
			if status, _ := poll(t, base, "/api/poll/"+tc.channel+"?timeout=1", tc.hdr); status != tc.status {
				t.Errorf("poll %s: %d, want %d", tc.channel, status, tc.status)
			}
			ws := dialWS(t, base, header(tc.hdr))
			ws.next(t) // welcome
			room, _ := json.Marshal(tc.channel)
			ws.send(t, `{"type":"join","room":`+string(room)+`}`)
			m := ws.next(t)
			if (tc.status == 200) != (m["type"] == "joined") {
				t.Errorf("ws join %s: %v", tc.channel, m)
			}
		})
	}

	// Alice and Bob each listen to "me" on all three transports; each gets
	// exactly their own events.
	aliceSSE := openSSE(t, base, "/api/events/me", alice)
	aliceSSE.connected(t)
	bobSSE := openSSE(t, base, "/api/events/me", bob)
	bobSSE.connected(t)
	aliceWS := dialWS(t, base, header(alice))
	aliceWS.next(t)
	aliceWS.send(t, `{"type":"join","room":"me"}`)
	aliceWS.next(t)
	bobWS := dialWS(t, base, header(bob))
	bobWS.next(t)
	bobWS.send(t, `{"type":"join","room":"me"}`)
	bobWS.next(t)
	start := n.hub.Cursor()

	a1 := appendEv(t, pool, model.UserChannel(1), "new-job", `{"for":"alice"}`)
	b1 := appendEv(t, pool, model.UserChannel(2), "new-job", `{"for":"bob"}`)
	a2 := appendEv(t, pool, model.UserChannel(1), "new-job", `{"for":"alice"}`)
	b2 := appendEv(t, pool, model.UserChannel(2), "new-job", `{"for":"bob"}`)

	if got := aliceSSE.nextIDs(t, 2); !equalIDs(got, []int64{a1, a2}) {
		t.Errorf("alice sse %v", got)
	}
	if got := bobSSE.nextIDs(t, 2); !equalIDs(got, []int64{b1, b2}) {
		t.Errorf("bob sse %v", got)
	}
	for _, c := range []struct {
		ws   *wsClient
		want []int64
	}{{aliceWS, []int64{a1, a2}}, {bobWS, []int64{b1, b2}}} {
		var got []int64
		for len(got) < 2 {
			m := c.ws.next(t)
			if m["room"] != "me" {
				t.Errorf("room %v, want me", m["room"])
			}
			id, _ := strconv.ParseInt(m["id"].(string), 10, 64)
			got = append(got, id)
		}
		if !equalIDs(got, c.want) {
			t.Errorf("ws got %v, want %v", got, c.want)
		}
	}
	pos := strconv.FormatInt(start, 10)
	if _, r := poll(t, base, "/api/poll/me?timeout=1000&lastEventId="+pos, alice); !equalIDs(r.ids(), []int64{a1, a2}) {
		t.Errorf("alice poll %v", r.ids())
	}
	if _, r := poll(t, base, "/api/poll/me?timeout=1000&lastEventId="+pos, bob); !equalIDs(r.ids(), []int64{b1, b2}) {
		t.Errorf("bob poll %v", r.ids())
	}
	// Resume of "me" from the database is per user too.
	c := openSSE(t, base, "/api/events/me?lastEventId=0", bob)
	c.connected(t)
	if got := c.nextIDs(t, 2); !equalIDs(got, []int64{b1, b2}) {
		t.Errorf("bob resume %v", got)
	}
}

func header(m map[string]string) http.Header {
	h := http.Header{}
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}
