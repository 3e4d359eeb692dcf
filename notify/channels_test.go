package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/model"
)

// logEvent is one event written by a test, with the room a subscriber
// names its channel by.
type logEvent struct {
	id      int64
	channel string // stored
	room    string // "jobs", "me" (alice's), "bob" (bob's, not alice's), a feed
}

// writeMixed appends n events spread over jobs, alice's and bob's channels
// and a feed, one statement each, and returns them in id order.
func writeMixed(t *testing.T, n *node, count int) []logEvent {
	t.Helper()
	var out []logEvent
	for i := range count {
		var e logEvent
		switch i % 4 {
		case 0:
			e = logEvent{channel: "jobs", room: "jobs"}
		case 1:
			e = logEvent{channel: model.UserChannel(1), room: "me"}
		case 2:
			e = logEvent{channel: model.UserChannel(2), room: "bob"}
		default:
			e = logEvent{channel: "job-alerts-baku", room: "job-alerts-baku"}
		}
		e.id = appendEv(t, n.hub.pool, e.channel, "new-job", `{"i":`+strconv.Itoa(i)+`}`)
		out = append(out, e)
	}
	return out
}

// after returns the ids of evs after from whose room is one of rooms.
func after(evs []logEvent, from int64, rooms ...string) []int64 {
	var ids []int64
	for _, e := range evs {
		if e.id > from && slices.Contains(rooms, e.room) {
			ids = append(ids, e.id)
		}
	}
	return ids
}

func newFeedNode(t *testing.T, cfg Config) *node {
	t.Helper()
	pool := pgtest.New(t)
	if _, err := pool.Exec(t.Context(), `INSERT INTO feeds (name) VALUES ('job-alerts-baku')`); err != nil {
		t.Fatal(err)
	}
	return startNode(t, pool, cfg)
}

// channelOfData reads the "channel" key of an event's data.
func channelOfData(t *testing.T, data []byte) string {
	t.Helper()
	var d struct {
		Channel string `json:"channel"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("event data %s: %v", data, err)
	}
	return d.Channel
}

// TestSSE_SeveralChannels: one stream follows jobs and the user's own
// channel, live and resumed (from the ring and from the database), merged
// in id order, each event's data naming its channel; other channels' and
// other users' events never arrive.
func TestSSE_SeveralChannels(t *testing.T) {
	n := newFeedNode(t, Config{RingSize: 6})
	start := n.hub.Cursor()
	c := openSSE(t, n.srv.URL, "/api/events?channels=jobs,me", alice)
	f := c.connected(t)
	var conn struct {
		Channel  string   `json:"channel"`
		Channels []string `json:"channels"`
	}
	if err := json.Unmarshal([]byte(f.Data), &conn); err != nil || conn.Channel != "jobs,me" || !slices.Equal(conn.Channels, []string{"jobs", "me"}) {
		t.Fatalf("connected data %s (%v), want channel jobs,me and channels [jobs me]", f.Data, err)
	}
	evs := writeMixed(t, n, 24)
	want := after(evs, start, "jobs", "me")
	byID := map[int64]string{}
	for _, e := range evs {
		byID[e.id] = e.room
	}
	var got []int64
	for len(got) < len(want) {
		f := c.next(t)
		if !f.HasID {
			continue
		}
		id, _ := strconv.ParseInt(f.ID, 10, 64)
		got = append(got, id)
		if ch := channelOfData(t, []byte(f.Data)); ch != byID[id] {
			t.Errorf("event %d data %s: channel %q, want %q", id, f.Data, ch, byID[id])
		}
	}
	if !equalIDs(got, want) {
		t.Fatalf("live: got %v, want %v", got, want)
	}

	// Resume with one Last-Event-ID: from the ring (recent), from the
	// database (older than the ring), from the start; the order of the
	// names does not matter.
	for _, from := range []int64{evs[20].id, evs[5].id, start} {
		r := openSSE(t, n.srv.URL, "/api/events?channels=me,jobs", map[string]string{"X-Test-User": "1", "Last-Event-ID": strconv.FormatInt(from, 10)})
		r.connected(t)
		want := after(evs, from, "jobs", "me")
		if got := r.nextIDs(t, len(want)); !equalIDs(got, want) {
			t.Errorf("resume from %d: got %v, want %v", from, got, want)
		}
		// Then live, nothing doubled.
		id := appendEv(t, n.hub.pool, model.UserChannel(1), "new-job", `{}`)
		if got := r.nextIDs(t, 1); got[0] != id {
			t.Errorf("resume from %d: then %v, want live %d", from, got, id)
		}
		evs = append(evs, logEvent{id: id, channel: model.UserChannel(1), room: "me"})
		r.close()
	}
}

// TestSSE_SeveralChannels_ConcurrentResume: while writers append to every
// channel, clients resume a two-channel stream from random positions (some
// from the ring, some from the database, some at the live edge); each gets
// exactly the events of its channels after its position, in order.
func TestSSE_SeveralChannels_ConcurrentResume(t *testing.T) {
	n := newFeedNode(t, Config{RingSize: 16})
	first := writeMixed(t, n, 40)
	var (
		mu  sync.Mutex
		all = append([]logEvent(nil), first...)
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ch, room := "jobs", "jobs"
			if i%2 == 1 {
				ch, room = model.UserChannel(1), "me"
			}
			ids, err := n.hub.store.AppendEvents(context.Background(), modelEvent(ch, "new-job", `{}`))
			if err != nil {
				t.Errorf("append: %v", err)
				return
			}
			mu.Lock()
			all = append(all, logEvent{id: ids[0], channel: ch, room: room})
			mu.Unlock()
		}
	}()
	type opened struct {
		c    *sseClient
		from int64
	}
	var clients []opened
	for i := range 8 {
		mu.Lock()
		from := all[len(all)-1-(i*7)%len(all)].id
		mu.Unlock()
		c := openSSE(t, n.srv.URL, "/api/events?channels=jobs,me", map[string]string{"X-Test-User": "1", "Last-Event-ID": strconv.FormatInt(from, 10)})
		c.connected(t)
		clients = append(clients, opened{c, from})
	}
	close(stop)
	wg.Wait()
	for _, o := range clients {
		want := after(all, o.from, "jobs", "me")
		if got := o.c.nextIDs(t, len(want)); !equalIDs(got, want) {
			t.Errorf("from %d: got %d events %v, want %d %v", o.from, len(got), got, len(want), want)
		}
	}
}

// TestPoll_SeveralChannels: a long poll of two channels answers with both
// channels' events merged in id order, each naming its channel, from the
// ring and from the database, and holds until the next one of either.
func TestPoll_SeveralChannels(t *testing.T) {
	n := newFeedNode(t, Config{RingSize: 6})
	start := n.hub.Cursor()
	evs := writeMixed(t, n, 24)
	waitUntil(t, "hub caught up", func() bool { return n.hub.Cursor() >= evs[len(evs)-1].id })
	for _, from := range []int64{start, evs[19].id} {
		pos := strconv.FormatInt(from, 10)
		var got []int64
		for {
			status, r := poll(t, n.srv.URL, "/api/poll?channels=jobs,me&timeout=0&lastEventId="+pos, alice)
			if status != 200 {
				t.Fatalf("poll: %d", status)
			}
			if len(r.Events) == 0 {
				break
			}
			for _, e := range r.Events {
				id, _ := strconv.ParseInt(e.ID, 10, 64)
				want := "jobs"
				if i := slices.IndexFunc(evs, func(x logEvent) bool { return x.id == id }); i >= 0 {
					want = evs[i].room
				}
				if ch := channelOfData(t, e.Data); ch != want {
					t.Errorf("event %d: channel %q, want %q", id, ch, want)
				}
			}
			got = append(got, r.ids()...)
			pos = r.LastEventID
		}
		if want := after(evs, from, "jobs", "me"); !equalIDs(got, want) {
			t.Errorf("from %d: got %v, want %v", from, got, want)
		}
	}
	// Held until an event of either channel; others' do not answer it.
	pos := strconv.FormatInt(evs[len(evs)-1].id, 10)
	done := make(chan pollResp, 1)
	go func() {
		_, r := poll(t, n.srv.URL, "/api/poll?channels=jobs,me&timeout=20000&lastEventId="+pos, alice)
		done <- r
	}()
	waitUntil(t, "poll waiting", func() bool { return n.hub.Stats().Connections["poll"] == 1 })
	appendEv(t, n.hub.pool, model.UserChannel(2), "new-job", `{}`)
	appendEv(t, n.hub.pool, "job-alerts-baku", "new-job", `{}`)
	mine := appendEv(t, n.hub.pool, model.UserChannel(1), "new-job", `{"channel":"spoofed"}`)
	r := <-done
	if !equalIDs(r.ids(), []int64{mine}) || r.LastEventID != strconv.FormatInt(mine, 10) {
		t.Fatalf("held poll: %+v, want only %d", r, mine)
	}
	// The stored data's own "channel" gives way to the subscription's.
	if string(r.Events[0].Data) != `{"channel":"me"}` {
		t.Fatalf("data %s, want {\"channel\":\"me\"}", r.Events[0].Data)
	}
}

// TestWS_TwoRooms: one socket joins jobs and me, each with its own
// lastEventId; events name their room, replays come in id order per room,
// and live events of both rooms arrive in id order.
func TestWS_TwoRooms(t *testing.T) {
	n := newFeedNode(t, Config{RingSize: 6})
	evs := writeMixed(t, n, 24)
	waitUntil(t, "hub caught up", func() bool { return n.hub.Cursor() >= evs[len(evs)-1].id })
	c := dialWS(t, n.srv.URL, header(alice))
	c.next(t) // welcome
	fromJobs, fromMe := evs[2].id, evs[17].id
	c.send(t, `{"type":"join","room":"jobs","lastEventId":"`+strconv.FormatInt(fromJobs, 10)+`"}`)
	want := map[string][]int64{"jobs": after(evs, fromJobs, "jobs"), "me": after(evs, fromMe, "me")}
	got := map[string][]int64{}
	read := func(total int) {
		for k := 0; k < total; {
			m := c.next(t)
			id, ok := m["id"].(string)
			if !ok {
				continue
			}
			k++
			n, _ := strconv.ParseInt(id, 10, 64)
			room, _ := m["room"].(string)
			got[room] = append(got[room], n)
		}
	}
	if j := c.next(t); j["type"] != "joined" || j["room"] != "jobs" {
		t.Fatalf("joined = %v", j)
	}
	read(len(want["jobs"]))
	c.send(t, `{"type":"join","room":"me","lastEventId":"`+strconv.FormatInt(fromMe, 10)+`"}`)
	if j := c.next(t); j["type"] != "joined" || j["room"] != "me" {
		t.Fatalf("joined = %v", j)
	}
	read(len(want["me"]))
	for room := range want {
		if !equalIDs(got[room], want[room]) {
			t.Errorf("room %s: got %v, want %v", room, got[room], want[room])
		}
	}
	live := writeMixed(t, n, 8)
	if ids := c.nextIDs(t, len(after(live, 0, "jobs", "me"))); !equalIDs(ids, after(live, 0, "jobs", "me")) {
		t.Errorf("live: got %v, want %v", ids, after(live, 0, "jobs", "me"))
	}
}

// TestStreams_ChannelsParamRefused: a malformed channels list, an unknown
// feed or "me" without a session refuses the whole request with a 4xx
// whose JSON error says what to fix, on SSE and long poll alike.
func TestStreams_ChannelsParamRefused(t *testing.T) {
	n := newFeedNode(t, Config{})
	many := "jobs,me,a,b,c,d,e,f,g" // nine
	for _, tc := range []struct {
		query  string
		hdr    map[string]string
		status int
		says   string
	}{
		{"", alice, 400, "name the channels"},
		{"?channels=", alice, 400, "empty channel name"},
		{"?channels=jobs,,me", alice, 400, "empty channel name"},
		{"?channels=" + many, alice, 400, "at most 8"},
		{"?channels=jobs,no-such-feed", alice, 404, "no-such-feed"},
		{"?channels=jobs,me", nil, 401, `"me"`},
		{"?channels=jobs,user:2", alice, 404, "user:2"},
	} {
		for _, path := range []string{"/api/events", "/api/poll"} {
			req, _ := http.NewRequest("GET", n.srv.URL+path+tc.query, nil)
			for k, v := range tc.hdr {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var e struct {
				Error string `json:"error"`
			}
			json.Unmarshal(b, &e)
			if resp.StatusCode != tc.status || !strings.Contains(e.Error, tc.says) {
				t.Errorf("GET %s%s: %d %s, want %d with an error that says %q", path, tc.query, resp.StatusCode, b, tc.status, tc.says)
			}
		}
	}
	// Duplicates are ignored; one channel on the list is a stream of one.
	c := openSSE(t, n.srv.URL, "/api/events?channels=jobs,jobs", nil)
	if f := c.connected(t); !strings.Contains(f.Data, `"channels":["jobs"]`) {
		t.Errorf("connected %s, want channels [jobs]", f.Data)
	}
	id := appendEv(t, n.hub.pool, "jobs", "new-job", `{}`)
	if got := c.nextIDs(t, 1); got[0] != id {
		t.Errorf("got %v, want %d", got, id)
	}
}

// TestEvt_AppendTagged: the channel goes first into an object's data, once
// (a stored "channel" key gives way to it), and data that is not an object
// is left as it is.
func TestEvt_AppendTagged(t *testing.T) {
	for _, tc := range []struct{ channel, typ, data, want string }{
		{"jobs", "new-job", `{"title":"Go"}`, `{"channel":"jobs","title":"Go"}`},
		{model.UserChannel(7), "new-job", `{ "alerts": [1] }`, `{"channel":"me","alerts":[1]}`},
		{"job-alerts-baku", "new-job", `{}`, `{"channel":"job-alerts-baku"}`},
		{"jobs", "new-job", `{"a":1,"channel":"x","b":{"channel":2}}`, `{"channel":"jobs","a":1,"b":{"channel":2}}`},
		{"jobs", "new-job", `{"title":"channel manager"}`, `{"channel":"jobs","title":"channel manager"}`},
		{"jobs", "new-job", `null`, `null`},
		{"jobs", "new-job", `[1,2]`, `[1,2]`},
		{"jobs", "new-job", `"text"`, `"text"`},
		{"jobs", model.EventReset, `{"lastEventId":"5"}`, `{"lastEventId":"5"}`},
		{"", "new-job", `{"a":1}`, `{"a":1}`},
	} {
		e := newEvt(1, tc.channel, tc.typ, time.Now(), []byte(tc.data))
		if got := string(e.appendTagged(nil)); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.channel, tc.data, got, tc.want)
		}
	}
}
