package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/birjob/birjob/internal/browsertest"
	"github.com/birjob/birjob/web"
)

// fakeEvent is one event of the fake backend's log.
type fakeEvent struct {
	ID      int64
	Channel string
	Type    string
	Data    any
}

// fakeBackend is a minimal real backend for the page: /api/jobs and
// /api/alerts from slices with their cursor, /api/events as a real SSE
// stream, /api/poll as real long polling and /api/ws as a real WebSocket,
// all following one event log with resume by id, several channels per
// stream, and the end of a session. Everything else answers 404 like a
// server without that part.
type fakeBackend struct {
	t          *testing.T
	mu         sync.Mutex
	jobs       []map[string]any // newest first
	events     []fakeEvent
	changed    chan struct{} // closed and replaced on every push
	drop       chan struct{} // closed and replaced by dropStreams
	stop       chan struct{}
	wsJoins    []map[string]any // join messages the WebSocket got
	jobLoads   int              // GET /api/jobs requests
	alertLoads int              // GET /api/alerts requests
	jobsCame   chan struct{}    // when set, gets a value (if there is room) per GET /api/jobs
	alertsCame chan struct{}    // the same for GET /api/alerts
	jobsGate   chan struct{}    // when set, GET /api/jobs waits until it is closed
	alertGate  chan struct{}    // the same for GET /api/alerts
	sseStatus  int              // when not 0, SSE answers this status
	user       map[string]any   // /api/me; nil: 401
	meDown     int              // /api/me answers 503 (Retry-After: 1) this many more times
	meCalls    int              // GET /api/me requests
	alerts     []map[string]any
	notFound   map[string]bool // paths that answer 404 with an error body
	resumes    []string        // lastEventId of each stream/poll request, in order
	transport  []string        // "sse" / "poll", per request
	channels   []string        // the channels of each stream/poll request, comma-separated
	ended      chan struct{}   // closed and replaced by endSession
	logouts    int             // POST /api/logout requests
	open       map[string]int  // open streams by transport ("sse", "ws"; poll requests in flight)
	openMoved  chan struct{}   // closed and replaced whenever open changes
}

func TestMain(m *testing.M) { browsertest.Main(m) }

// pageHooks are the page's settings for these tests, run before its
// scripts in every tab: toasts stay until the test has read them (they go
// after 8 s, and a test that checks several tabs in turn on a loaded CI
// machine reads the last one later than that), and a stream may take 60 s
// to come up before the page calls it stalled and moves to the next
// transport for good (5 s by default: a page load on two cores shared
// with the other packages under -race can take that long, and a test that
// expects SSE then sees a WebSocket).
const pageHooks = `window.birjobToastMs = 600000; window.birjobStallMs = 60000;`

// newPage is browsertest.New with pageHooks.
func newPage(t *testing.T) context.Context {
	t.Helper()
	ctx := browsertest.New(t)
	browsertest.BeforeScripts(t, ctx, pageHooks)
	return ctx
}

// newTab is browsertest.NewTab with pageHooks.
func newTab(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	tab := browsertest.NewTab(t, ctx)
	browsertest.BeforeScripts(t, tab, pageHooks)
	return tab
}

func newFakeBackend(t *testing.T) *fakeBackend {
	return &fakeBackend{t: t, changed: make(chan struct{}), drop: make(chan struct{}), stop: make(chan struct{}), ended: make(chan struct{}),
		notFound: map[string]bool{}, open: map[string]int{}, openMoved: make(chan struct{})}
}

// push appends an event and wakes the streams; it returns the event's id.
func (b *fakeBackend) push(channel, typ string, data any) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := int64(1000 + len(b.events) + 1)
	b.events = append(b.events, fakeEvent{ID: id, Channel: channel, Type: typ, Data: data})
	close(b.changed)
	b.changed = make(chan struct{})
	return id
}

// dropStreams ends every open SSE stream and WebSocket, as a restarting
// server or a proxy would.
func (b *fakeBackend) dropStreams() {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.drop)
	b.drop = make(chan struct{})
}

func (b *fakeBackend) dropped() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.drop
}

// after returns the events of channels after id, in id order, and the
// channel to wait on.
func (b *fakeBackend) after(channels []string, id int64) ([]fakeEvent, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []fakeEvent
	for _, e := range b.events {
		if slices.Contains(channels, e.Channel) && e.ID > id {
			out = append(out, e)
		}
	}
	return out, b.changed
}

// endSession ends the signed-in session as the server would after a
// logout elsewhere: /api/me answers 401, streams holding "me" get
// session-ended and end, and a waiting poll answers 401.
func (b *fakeBackend) endSession() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.user = nil
	close(b.ended)
	b.ended = make(chan struct{})
}

// sessionEnded is the channel endSession closes next.
func (b *fakeBackend) sessionEnded() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ended
}

// opened counts a stream of transport while it is open; call the result
// when it ends.
func (b *fakeBackend) opened(transport string) func() {
	b.moveOpen(transport, 1)
	return func() { b.moveOpen(transport, -1) }
}

func (b *fakeBackend) moveOpen(transport string, by int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.open[transport] += by
	close(b.openMoved)
	b.openMoved = make(chan struct{})
}

// waitStreams waits until n streams of transport are open, and fails the
// test when that does not come within browsertest.DefaultTimeout. A
// stream the page ended (a session-ended message, a tab that stopped
// holding the stream) counts until its handler returns, which can be after
// the page opened the next one: a count read at once after a client-side
// effect can be one too many.
func (b *fakeBackend) waitStreams(t *testing.T, transport string, n int) {
	t.Helper()
	deadline := time.NewTimer(browsertest.DefaultTimeout)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		got, moved := b.open[transport], b.openMoved
		b.mu.Unlock()
		if got == n {
			return
		}
		select {
		case <-moved:
		case <-deadline.C:
			t.Errorf("%d %s streams open for one browser, want %d (waited %s)", got, transport, n, browsertest.DefaultTimeout)
			return
		}
	}
}

// streams returns how many streams of each transport are open.
func (b *fakeBackend) streams() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.open)
}

// frameData is an event's data as the server sends it: "channel" first
// when the data is a JSON object.
func frameData(e fakeEvent) []byte {
	data, _ := json.Marshal(e.Data)
	if len(data) < 2 || data[0] != '{' {
		return data
	}
	head := fmt.Sprintf(`{"channel":%q`, e.Channel)
	if string(data) == "{}" {
		return []byte(head + "}")
	}
	return []byte(head + "," + string(data[1:]))
}

// streamChannels reads a stream request's channels: the {channel} path
// value or ?channels=a,b.
func streamChannels(r *http.Request) []string {
	if ch := r.PathValue("channel"); ch != "" {
		return []string{ch}
	}
	return strings.Split(r.URL.Query().Get("channels"), ",")
}

func (b *fakeBackend) lastID() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.events) == 0 {
		return 0
	}
	return b.events[len(b.events)-1].ID
}

func (b *fakeBackend) record(transport, lastEventID string, channels []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.resumes = append(b.resumes, lastEventID)
	b.transport = append(b.transport, transport)
	b.channels = append(b.channels, strings.Join(channels, ","))
}

func (b *fakeBackend) requests() (transports, resumes []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.transport...), append([]string(nil), b.resumes...)
}

// passGate holds a request until gate is closed (nil: at once); false when
// the client went away first.
func passGate(gate chan struct{}, r *http.Request) bool {
	if gate == nil {
		return true
	}
	select {
	case <-gate:
		return true
	case <-r.Context().Done():
		return false
	}
}

// signal sends on c without waiting (nil: nothing).
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (b *fakeBackend) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", web.Handler(web.Options{Title: "birjob test"}))
	// The lists answer as of the moment the request came (a snapshot),
	// with the id of the last event then, however long the gate holds them.
	mux.HandleFunc("GET /api/jobs", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		gate := b.jobsGate
		b.jobLoads++
		signal(b.jobsCame)
		jobs := slices.Clone(b.jobs)
		b.mu.Unlock()
		last := b.lastID()
		if !passGate(gate, r) {
			return
		}
		writeJSON(w, 200, map[string]any{"jobs": jobs, "lastEventId": strconv.FormatInt(last, 10)})
	})
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.meCalls++
		if b.meDown > 0 {
			b.meDown--
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 503, map[string]string{"error": "your sign-in cannot be checked right now (the database is unreachable); try again in a few seconds"})
			return
		}
		if b.user == nil {
			writeJSON(w, 401, map[string]string{"error": "sign in first"})
			return
		}
		writeJSON(w, 200, b.user)
	})
	mux.HandleFunc("GET /api/alerts", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		gate := b.alertGate
		b.alertLoads++
		signal(b.alertsCame)
		alerts := slices.Clone(b.alerts)
		b.mu.Unlock()
		last := b.lastID()
		if !passGate(gate, r) {
			return
		}
		writeJSON(w, 200, map[string]any{"alerts": alerts, "lastEventId": strconv.FormatInt(last, 10)})
	})
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.user = map[string]any{"id": 7, "email": "ada@example.com"}
		writeJSON(w, 200, b.user)
	})
	mux.HandleFunc("POST /api/logout", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.logouts++
		b.mu.Unlock()
		b.endSession()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /api/feeds", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, []map[string]any{{"id": 1, "name": "job-alerts-baku", "title": "Jobs in Baku", "location": "Baku"}})
	})
	mux.HandleFunc("GET /api/admin/stats", func(w http.ResponseWriter, r *http.Request) {
		now := time.Now().Truncate(time.Minute)
		writeJSON(w, 200, map[string]any{
			"notify": map[string]any{"connections": map[string]int{"sse": 3, "ws": 1, "poll": 0}, "eventsPerSecond": 2.5},
			"range":  "1h", "step": 60, "now": now.Add(30 * time.Second),
			"cluster": map[string]any{"nodes": []string{"a", "b"}, "connections": map[string]int{"sse": 5, "ws": 1, "poll": 0}, "subscriptions": 8},
			"series": map[string]any{"at": []time.Time{now.Add(-time.Minute), now}, "events": []int{120, 30},
				"connections": map[string][]any{"sse": {4, 5}, "ws": {1, nil}, "poll": {0, 0}},
				"runs":        map[string][]int{"ok": {2, 1}, "failed": {0, 1}}, "matched": []int{10, 0}, "matchMs": []any{0.25, nil}},
		})
	})
	mux.HandleFunc("GET /api/events/{channel}", b.serveSSE)
	mux.HandleFunc("GET /api/events", b.serveSSE)
	mux.HandleFunc("GET /api/poll/{channel}", b.servePoll)
	mux.HandleFunc("GET /api/poll", b.servePoll)
	mux.HandleFunc("GET /api/ws", b.serveWS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		nf := b.notFound[r.URL.Path]
		b.mu.Unlock()
		if nf || strings.HasPrefix(r.URL.Path, "/api/") && !knownAPI(r.URL.Path) {
			writeJSON(w, 404, map[string]string{"error": "no route " + r.URL.Path})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func knownAPI(p string) bool {
	for _, prefix := range []string{"/api/jobs", "/api/me", "/api/login", "/api/logout", "/api/alerts", "/api/feeds", "/api/admin/stats", "/api/events", "/api/poll", "/api/ws"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// refuse answers the statuses a stream request can get before it starts:
// the configured SSE failure, 401 for "me" without a session; false when
// it answered.
func (b *fakeBackend) refuse(w http.ResponseWriter, channels []string, sse bool) bool {
	b.mu.Lock()
	status, user := b.sseStatus, b.user
	b.mu.Unlock()
	if sse && status != 0 {
		writeJSON(w, status, map[string]string{"error": "sse is broken in this test"})
		return true
	}
	if slices.Contains(channels, "me") && user == nil {
		writeJSON(w, 401, map[string]string{"error": "sign in first"})
		return true
	}
	return false
}

// cursorOf parses a resume position; none means "from now".
func (b *fakeBackend) cursorOf(last string) int64 {
	cursor, err := strconv.ParseInt(last, 10, 64)
	if err != nil {
		return b.lastID()
	}
	return cursor
}

// serveSSE speaks SSE for /api/events/{channel} and /api/events?channels=:
// connected, then the events of the channels in id order with "channel"
// in their data, session-ended when the session ends under a stream that
// holds "me".
func (b *fakeBackend) serveSSE(w http.ResponseWriter, r *http.Request) {
	channels := streamChannels(r)
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("lastEventId")
	}
	b.record("sse", last, channels)
	if b.refuse(w, channels, true) {
		return
	}
	defer b.opened("sse")()
	drop, ended := b.dropped(), b.sessionEnded()
	cursor := b.cursorOf(last)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	fmt.Fprintf(w, "retry: 1000\n\nevent: connected\ndata: {\"channel\":%q,\"channels\":%s,\"timestamp\":%d}\n\n",
		strings.Join(channels, ","), must(json.Marshal(channels)), time.Now().UnixMilli())
	if err := rc.Flush(); err != nil {
		return
	}
	private := slices.Contains(channels, "me")
	for {
		evs, changed := b.after(channels, cursor)
		for _, e := range evs {
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Type, frameData(e))
			cursor = e.ID
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-changed:
		case <-ended:
			if private {
				fmt.Fprint(w, "event: session-ended\ndata: {\"reason\":\"your session ended; sign in again\"}\n\n")
				_ = rc.Flush()
				return
			}
			ended = b.sessionEnded()
		case <-drop:
			return
		case <-r.Context().Done():
			return
		case <-b.stop:
			return
		}
	}
}

func must(v []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return v
}

// serveWS speaks the page's side of the WebSocket protocol: welcome, join
// (with resume, per room), joined, events of the joined rooms, pong,
// session-ended and close 4401 when the session of a socket in "me" ends.
func (b *fakeBackend) serveWS(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	wsOff := b.notFound["/api/ws"]
	b.mu.Unlock()
	if wsOff {
		writeJSON(w, 404, map[string]string{"error": "no websocket here"})
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	defer b.opened("ws")()
	ctx := r.Context()
	drop, ended := b.dropped(), b.sessionEnded()
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "welcome", "clientId": "c1", "timestamp": time.Now().UnixMilli()}); err != nil {
		return
	}
	msgs := make(chan map[string]any)
	go func() {
		defer close(msgs)
		for {
			var m map[string]any
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				return
			}
			msgs <- m
		}
	}()
	rooms := map[string]int64{} // room → cursor
	for {
		for room, cursor := range rooms {
			evs, _ := b.after([]string{room}, cursor)
			for _, e := range evs {
				msg := map[string]any{"type": e.Type, "id": strconv.FormatInt(e.ID, 10), "room": room, "data": e.Data, "timestamp": time.Now().UnixMilli()}
				if err := wsjson.Write(ctx, conn, msg); err != nil {
					return
				}
				rooms[room] = e.ID
			}
		}
		_, changed := b.after(nil, 0)
		select {
		case m, ok := <-msgs:
			if !ok {
				return
			}
			switch m["type"] {
			case "join":
				b.mu.Lock()
				b.wsJoins = append(b.wsJoins, m)
				user := b.user
				b.mu.Unlock()
				room, _ := m["room"].(string)
				last, _ := m["lastEventId"].(string)
				b.record("ws", last, []string{room})
				if room == "me" && user == nil {
					_ = wsjson.Write(ctx, conn, map[string]any{"type": "error", "message": "sign in to join me"})
					continue
				}
				rooms[room] = b.cursorOf(last)
				_ = wsjson.Write(ctx, conn, map[string]any{"type": "joined", "room": room, "memberCount": 1})
			case "ping":
				_ = wsjson.Write(ctx, conn, map[string]any{"type": "pong", "timestamp": time.Now().UnixMilli()})
			default:
				_ = wsjson.Write(ctx, conn, map[string]any{"type": "error", "message": "unknown type"})
			}
		case <-changed:
		case <-ended:
			if _, private := rooms["me"]; private {
				_ = wsjson.Write(ctx, conn, map[string]any{"type": "session-ended", "reason": "your session ended; sign in again"})
				conn.Close(4401, "session ended")
				return
			}
			ended = b.sessionEnded()
		case <-drop:
			return
		case <-b.stop:
			return
		}
	}
}

// servePoll speaks long polling for /api/poll/{channel} and
// /api/poll?channels=: events of the channels in id order, each with its
// channel; a waiting poll holding "me" answers 401 when the session ends.
func (b *fakeBackend) servePoll(w http.ResponseWriter, r *http.Request) {
	channels := streamChannels(r)
	last := r.URL.Query().Get("lastEventId")
	b.record("poll", last, channels)
	if b.refuse(w, channels, false) {
		return
	}
	defer b.opened("poll")()
	ended := b.sessionEnded()
	cursor := b.cursorOf(last)
	timeout, err := strconv.Atoi(r.URL.Query().Get("timeout"))
	if err != nil || timeout <= 0 || timeout > 30000 {
		timeout = 30000
	}
	timer := time.NewTimer(time.Duration(timeout) * time.Millisecond)
	defer timer.Stop()
	for {
		evs, changed := b.after(channels, cursor)
		if len(evs) > 0 {
			out := make([]map[string]any, len(evs))
			for i, e := range evs {
				out[i] = map[string]any{"id": strconv.FormatInt(e.ID, 10), "type": e.Type, "channel": e.Channel,
					"data": json.RawMessage(frameData(e)), "timestamp": time.Now().UnixMilli()}
			}
			writeJSON(w, 200, map[string]any{"events": out, "lastEventId": strconv.FormatInt(evs[len(evs)-1].ID, 10)})
			return
		}
		select {
		case <-changed:
		case <-ended:
			if slices.Contains(channels, "me") {
				writeJSON(w, 401, map[string]any{"error": "your session ended; sign in again", "sessionEnded": true})
				return
			}
			ended = b.sessionEnded()
		case <-timer.C:
			writeJSON(w, 200, map[string]any{"events": []any{}, "lastEventId": strconv.FormatInt(cursor, 10)})
			return
		case <-r.Context().Done():
			return
		case <-b.stop:
			return
		}
	}
}

// start serves the backend; the browser test's cleanups (registered later)
// run first, then the streams are told to stop, then the server closes.
func (b *fakeBackend) start() *httptest.Server {
	srv := httptest.NewServer(b.handler())
	b.t.Cleanup(srv.Close)
	b.t.Cleanup(func() { close(b.stop) })
	return srv
}

func job(id int, title, url string) map[string]any {
	return map[string]any{
		"id":             id,
		"title":          title,
		"company":        "Acme " + strconv.Itoa(id),
		"location":       "Baku",
		"remote":         id%2 == 0,
		"salary":         map[string]any{"min": 1500, "max": 2500, "currency": "AZN", "period": "month"},
		"url":            url,
		"source":         "demo",
		"postedAt":       time.Now().Add(-time.Duration(id) * time.Hour).Format(time.RFC3339),
		"employmentType": "full-time",
	}
}

const hostileTitle = `<img src=x onerror="window.__pwned=1">Senior <b>Go</b>`

// countRows is a JS expression: how many rows of the job list have this id.
func countRows(id int) string {
	return fmt.Sprintf(`document.querySelectorAll('#jobs li[data-id="%d"]').length`, id)
}

func TestBrowser_LiveListOverSSE(t *testing.T) {
	b := newFakeBackend(t)
	b.jobs = []map[string]any{
		job(2, "Backend engineer (Go)", "javascript:window.__pwned=2"),
		job(1, "Frontend developer", "https://jobs.example.com/1"),
	}
	srv := b.start()
	ctx := newPage(t)

	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/"))
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="1"]`)
	browsertest.WaitTrue(t, ctx, `document.querySelector("#conn").dataset.state === "live"`)
	if got := browsertest.Eval[string](t, ctx, `document.querySelector("#conn").dataset.transport`); got != "sse" {
		t.Fatalf("transport = %q, want sse", got)
	}
	if got := browsertest.Text(t, ctx, "#conn"); !strings.Contains(got, "SSE") || !strings.Contains(got, "live") {
		t.Errorf("pill = %q, want it to say live and SSE", got)
	}
	if got := browsertest.Eval[[]string](t, ctx, `[...document.querySelectorAll("#jobs > li")].map(li => li.dataset.id)`); strings.Join(got, ",") != "2,1" {
		t.Errorf("rows = %v, want newest first [2 1]", got)
	}
	// A javascript: URL is not a link.
	if n := browsertest.Eval[int](t, ctx, `document.querySelectorAll('#jobs li[data-id="2"] a').length`); n != 0 {
		t.Errorf("job with a javascript: URL has %d links", n)
	}
	if rel := browsertest.Eval[string](t, ctx, `document.querySelector('#jobs li[data-id="1"] a').rel`); rel != "noopener noreferrer nofollow" {
		t.Errorf("link rel = %q", rel)
	}

	// A pushed job appears without reload, on top, with its hostile title as text.
	hostile := job(3, hostileTitle, "https://jobs.example.com/3")
	b.push("jobs", "new-job", hostile)
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="3"]`)
	if first := browsertest.Eval[string](t, ctx, `document.querySelector("#jobs > li").dataset.id`); first != "3" {
		t.Errorf("first row = %s, want the new job 3", first)
	}
	if got := browsertest.Text(t, ctx, `#jobs li[data-id="3"] .title`); got != hostileTitle {
		t.Errorf("hostile title rendered as %q", got)
	}
	if n := browsertest.Eval[int](t, ctx, `document.querySelectorAll("#jobs img, #jobs b").length`); n != 0 {
		t.Errorf("hostile title made %d elements", n)
	}

	// Duplicates: the same job again, and a job the API listed, add no row.
	b.push("jobs", "new-job", hostile)
	b.push("jobs", "new-job", b.jobs[1])
	b.push("jobs", "new-job", job(4, "Data engineer", "https://jobs.example.com/4"))
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="4"]`)
	for _, id := range []int{1, 3, 4} {
		if n := browsertest.Eval[int](t, ctx, countRows(id)); n != 1 {
			t.Errorf("job %d has %d rows, want 1", id, n)
		}
	}

	// job-expired marks the row.
	b.push("jobs", "job-expired", map[string]any{"id": 1, "title": "Frontend developer"})
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="1"].expired .expired-badge`)
	if n := browsertest.Eval[int](t, ctx, `document.querySelectorAll("#jobs li.expired").length`); n != 1 {
		t.Errorf("%d expired rows, want 1", n)
	}
	if browsertest.Eval[bool](t, ctx, `window.__pwned !== undefined`) {
		t.Fatal("page ran injected code")
	}
	browsertest.Screenshot(t, ctx, "/tmp/birjob-page.png")
	for _, m := range browsertest.From(ctx).Console() {
		if strings.Contains(m.Text, "Content Security Policy") {
			t.Errorf("the page breaks its own CSP: %s", m.Text)
		}
	}

	// A reload resumes after the last event it saw.
	last := strconv.FormatInt(b.lastID(), 10)
	browsertest.Do(t, ctx, chromedp.Reload())
	browsertest.WaitTrue(t, ctx, `document.querySelector("#conn").dataset.state === "live"`)
	_, resumes := b.requests()
	if got := resumes[len(resumes)-1]; got != last {
		t.Errorf("after reload the stream resumed from %q, want %q (all: %v)", got, last, resumes)
	}
	// Replayed or not, nothing shows twice after the reload either.
	b.push("jobs", "new-job", job(5, "QA engineer", "https://jobs.example.com/5"))
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="5"]`)
	if n := browsertest.Eval[int](t, ctx, countRows(3)); n != 0 {
		t.Errorf("job 3 shows %d times after reload; the API does not list it and its event was seen", n)
	}
}

// A job announced while the first page of the list is still loading (after
// the snapshot the answer reflects) is on the list once the answer arrives,
// once: the stream resumes from the answer's cursor.
func TestBrowser_EventDuringFirstLoadStays(t *testing.T) {
	b := newFakeBackend(t)
	b.jobs = []map[string]any{job(1, "Frontend developer", "https://jobs.example.com/1")}
	b.jobsGate = make(chan struct{})
	b.jobsCame = make(chan struct{}, 8)
	srv := b.start()
	ctx := newPage(t)

	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/"))
	waitSignal(t, b.jobsCame, "GET /api/jobs")
	b.push("jobs", "new-job", job(7, "Announced while loading", "https://jobs.example.com/7"))
	close(b.jobsGate)
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="7"]`)
	browsertest.WaitTrue(t, ctx, `document.querySelector("#conn").dataset.state === "live"`)
	if got := browsertest.Eval[[]string](t, ctx, `[...document.querySelectorAll("#jobs > li")].map(li => li.dataset.id)`); strings.Join(got, ",") != "7,1" {
		t.Errorf("rows after the first load = %v, want [7 1]: the announced job on top, once", got)
	}
	// The log was empty when the list was read: its cursor is 0.
	if _, resumes := b.requests(); resumes[0] != "0" {
		t.Errorf("the stream started from %q, want the list's cursor 0 (all: %v)", resumes[0], resumes)
	}
}

// A tab that follows another one's stream listens before it loads: a job
// announced while its list loads (after the list's snapshot) waits and is
// applied once the answer arrives, once; one announced before the
// snapshot is in the answer and is not applied again.
func TestBrowser_FollowerAppliesWhatCameDuringItsLoad(t *testing.T) {
	b := newFakeBackend(t)
	b.jobs = []map[string]any{job(1, "Frontend developer", "https://jobs.example.com/1")}
	srv := b.start()
	ctx := newPage(t)
	first := newTab(t, ctx)
	browsertest.Do(t, first, chromedp.Navigate(srv.URL+"/"))
	browsertest.WaitTrue(t, first, `document.querySelector("#conn").dataset.state === "live"`)

	b.mu.Lock()
	b.jobsGate = make(chan struct{})
	b.jobsCame = make(chan struct{}, 8)
	b.mu.Unlock()
	second := newTab(t, ctx)
	browsertest.Do(t, second, chromedp.Navigate(srv.URL+"/"))
	waitSignal(t, b.jobsCame, "the second tab's GET /api/jobs")
	b.push("jobs", "new-job", job(7, "Announced while loading", "https://jobs.example.com/7"))
	browsertest.WaitVisible(t, first, `#jobs li[data-id="7"]`)
	close(b.jobsGate)
	browsertest.WaitVisible(t, second, `#jobs li[data-id="7"]`)
	browsertest.WaitTrue(t, second, `document.querySelector("#conn").dataset.state === "live"`)
	if got := browsertest.Eval[[]string](t, second, `[...document.querySelectorAll("#jobs > li")].map(li => li.dataset.id)`); strings.Join(got, ",") != "7,1" {
		t.Errorf("second tab's rows = %v, want [7 1]", got)
	}
	b.waitStreams(t, "sse", 1)
}

// waitSignal waits for a signal of the fake backend.
func waitSignal(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(browsertest.DefaultTimeout):
		t.Fatalf("no %s within %s", what, browsertest.DefaultTimeout)
	}
}

func TestBrowser_FallsBackToLongPoll(t *testing.T) {
	b := newFakeBackend(t)
	b.sseStatus = http.StatusInternalServerError
	b.notFound["/api/ws"] = true
	b.jobs = []map[string]any{job(1, "Frontend developer", "https://jobs.example.com/1")}
	srv := b.start()
	ctx := newPage(t)

	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/"))
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="1"]`)
	browsertest.WaitTrue(t, ctx, `document.querySelector("#conn").dataset.transport === "poll" && document.querySelector("#conn").dataset.state === "live"`)
	if got := browsertest.Text(t, ctx, "#conn"); !strings.Contains(got, "long-poll") {
		t.Errorf("pill = %q, want it to say long-poll", got)
	}
	id := b.push("jobs", "new-job", job(2, "Backend engineer", "https://jobs.example.com/2"))
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="2"]`)
	b.push("jobs", "job-expired", map[string]any{"id": 2})
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="2"].expired`)

	// The poll loop continues from the id it got.
	transports, resumes := b.requests()
	sawResume := false
	for i, tr := range transports {
		sawResume = sawResume || tr == "poll" && resumes[i] == strconv.FormatInt(id, 10)
	}
	if !sawResume {
		t.Errorf("no poll resumed from %d: transports %v, resumes %v", id, transports, resumes)
	}
	if transports[0] != "sse" {
		t.Errorf("first attempt was %s, want sse", transports[0])
	}
}

func TestBrowser_ForcedTransport(t *testing.T) {
	b := newFakeBackend(t)
	srv := b.start()
	ctx := newPage(t)
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/?transport=poll"))
	browsertest.WaitTrue(t, ctx, `document.querySelector("#conn").dataset.transport === "poll" && document.querySelector("#conn").dataset.state === "live"`)
	b.push("jobs", "new-job", job(7, "Designer", "https://jobs.example.com/7"))
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="7"]`)
	for _, tr := range func() []string { tr, _ := b.requests(); return tr }() {
		if tr != "poll" {
			t.Fatalf("a %s request despite ?transport=poll", tr)
		}
	}
}

// TestBrowser_MeUnavailableIsNotSignedOut: while the database is away,
// GET /api/me answers 503; the page shows the public list meanwhile and
// asks again after the Retry-After, then is signed in, without a reload.
func TestBrowser_MeUnavailableIsNotSignedOut(t *testing.T) {
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 7, "email": "ada@example.com", "admin": false}
	b.meDown = 2
	srv := b.start()
	ctx := newPage(t)
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/"))
	browsertest.WaitTrue(t, ctx, `document.querySelector("#who") && document.querySelector("#who").textContent === "ada@example.com"`)
	b.mu.Lock()
	calls := b.meCalls
	b.mu.Unlock()
	if calls != 3 {
		t.Errorf("GET /api/me %d times, want 3 (two 503s, then the answer)", calls)
	}
	browsertest.WaitTrue(t, ctx, `document.querySelector("#conn").dataset.meState === "live"`)
}

func TestBrowser_SignedInAlertsAndAdmin(t *testing.T) {
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 7, "email": "ada@example.com", "admin": true}
	b.alerts = []map[string]any{{
		"id": 11, "name": "Go in Baku", "query": "golang", "location": "Baku", "paused": false,
		"matches": []map[string]any{job(1, "Go developer", "https://jobs.example.com/1")},
	}}
	b.notFound["/api/sources"] = true // a missing endpoint must not break the rest
	srv := b.start()
	ctx := newPage(t)

	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/#alerts"))
	browsertest.WaitVisible(t, ctx, `#alerts-list li[data-id="11"]`)
	if got := browsertest.Text(t, ctx, "#who"); got != "ada@example.com" {
		t.Errorf("signed in as %q", got)
	}
	browsertest.WaitVisible(t, ctx, `#alerts-list li[data-id="11"] .matches li[data-id="1"]`)
	browsertest.WaitTrue(t, ctx, `document.querySelector("#conn").dataset.meState === "live"`)

	// A match on "me" shows a toast and joins its alert's matches.
	b.push("me", "new-job", map[string]any{"id": 9, "title": "Senior Go developer", "company": "Acme", "url": "https://jobs.example.com/9", "alerts": []int{11}})
	browsertest.WaitVisible(t, ctx, `#alerts-list li[data-id="11"] .matches li[data-id="9"]`)
	browsertest.WaitVisible(t, ctx, `#toasts .toast.match`)
	if got := browsertest.Text(t, ctx, "#toasts .toast.match"); !strings.Contains(got, "Go in Baku") || !strings.Contains(got, "Senior Go developer") {
		t.Errorf("toast = %q", got)
	}

	// Admin: sources answer 404, the error shows, feeds and stats still render.
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/#admin"))
	browsertest.WaitVisible(t, ctx, `#sources-error`)
	if got := browsertest.Text(t, ctx, "#sources-error"); !strings.Contains(got, "no route /api/sources") {
		t.Errorf("sources error = %q", got)
	}
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/#admin/feeds"))
	browsertest.WaitVisible(t, ctx, `#feeds-list li[data-id="1"]`)
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/#admin/stats"))
	browsertest.WaitVisible(t, ctx, `#stats-charts figure svg`)
	if got := browsertest.Text(t, ctx, "#stats-charts"); !strings.Contains(got, "1.67 events/s over the last hour (150 events), peak 2 events/s") ||
		!strings.Contains(got, "6 open connections now: 5 SSE, 1 WebSocket, 0 long poll, on 2 nodes") || !strings.Contains(got, "4 runs over the last hour: 3 ok, 1 failed") {
		t.Errorf("stats = %q", got)
	}
	if got := browsertest.Text(t, ctx, "#stats"); !strings.Contains(got, "notify.connections.sse") || !strings.Contains(got, "2.5") {
		t.Errorf("node counters = %q", got)
	}
	browsertest.Screenshot(t, ctx, "/tmp/birjob-admin.png")

	// A phone-sized window: no page-wide horizontal scrolling on any tab.
	browsertest.Do(t, ctx, chromedp.EmulateViewport(360, 740))
	for _, tab := range []string{"admin", "alerts", "jobs"} {
		browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/#"+tab))
		browsertest.WaitVisible(t, ctx, "#tab-"+tab)
		if w := browsertest.Eval[[]int](t, ctx, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
			t.Errorf("#%s is %dpx wide in a %dpx window", tab, w[0], w[1])
		}
	}
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/#alerts"))
	browsertest.WaitVisible(t, ctx, `#alerts-list li[data-id="11"]`)
	browsertest.Screenshot(t, ctx, "/tmp/birjob-narrow.png")
}

// A match announced while the alerts are still loading (after the snapshot
// the answer reflects) is shown under its alert once they arrive, with one
// toast.
func TestBrowser_MatchDuringAlertsLoadStays(t *testing.T) {
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 7, "email": "ada@example.com"}
	b.alerts = []map[string]any{{"id": 11, "name": "Go in Baku", "query": "golang", "paused": false, "matches": []map[string]any{}}}
	b.alertGate = make(chan struct{})
	b.alertsCame = make(chan struct{}, 8)
	srv := b.start()
	ctx := newPage(t)

	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/#alerts"))
	waitSignal(t, b.alertsCame, "GET /api/alerts")
	b.push("me", "new-job", map[string]any{"id": 9, "title": "Senior Go developer", "url": "https://jobs.example.com/9", "alerts": []int{11}})
	close(b.alertGate)
	browsertest.WaitVisible(t, ctx, `#alerts-list li[data-id="11"] .matches li[data-id="9"]`)
	browsertest.WaitVisible(t, ctx, `#toasts .toast.match`)
	browsertest.WaitTrue(t, ctx, `document.querySelector("#conn").dataset.meState === "live"`)
	if n := browsertest.Eval[int](t, ctx, `document.querySelectorAll("#toasts .toast.match").length`); n != 1 {
		t.Errorf("%d match toasts, want 1", n)
	}
	if got := browsertest.Text(t, ctx, "#conn"); !strings.Contains(got, "alerts on") {
		t.Errorf("pill = %q, want it to say the alerts are on", got)
	}
}

func TestBrowser_FallsBackToWebSocketAndResumes(t *testing.T) {
	b := newFakeBackend(t)
	b.sseStatus = http.StatusServiceUnavailable
	b.jobs = []map[string]any{job(1, "Frontend developer", "https://jobs.example.com/1")}
	srv := b.start()
	ctx := newPage(t)

	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/"))
	browsertest.WaitTrue(t, ctx, `document.querySelector("#conn").dataset.transport === "ws" && document.querySelector("#conn").dataset.state === "live"`)
	if got := browsertest.Text(t, ctx, "#conn"); !strings.Contains(got, "WebSocket") {
		t.Errorf("pill = %q, want it to say WebSocket", got)
	}
	b.push("jobs", "new-job", job(2, "Backend engineer", "https://jobs.example.com/2"))
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="2"]`)

	// The connection drops; events written meanwhile arrive after the
	// reconnect, once each, because the join resumes from the last id.
	seen := strconv.FormatInt(b.lastID(), 10)
	b.dropStreams()
	b.push("jobs", "new-job", job(3, "Data engineer", "https://jobs.example.com/3"))
	b.push("jobs", "job-expired", map[string]any{"id": 2})
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="3"]`)
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="2"].expired`)
	for _, id := range []int{1, 2, 3} {
		if n := browsertest.Eval[int](t, ctx, countRows(id)); n != 1 {
			t.Errorf("job %d has %d rows, want 1", id, n)
		}
	}
	transports, resumes := b.requests()
	if transports[len(transports)-1] != "ws" || resumes[len(resumes)-1] != seen {
		t.Errorf("the reconnect joined with lastEventId %q over %s, want %q over ws (all: %v %v)",
			resumes[len(resumes)-1], transports[len(transports)-1], seen, transports, resumes)
	}
	// A dropped stream that worked is retried on its own transport, not
	// given up: no poll request was made.
	for _, tr := range transports {
		if tr == "poll" {
			t.Errorf("fell back to long polling after a WebSocket drop: %v", transports)
		}
	}
}

func TestBrowser_SSEReconnectResumes(t *testing.T) {
	b := newFakeBackend(t)
	srv := b.start()
	ctx := newPage(t)
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/"))
	browsertest.WaitTrue(t, ctx, `document.querySelector("#conn").dataset.state === "live"`)
	b.push("jobs", "new-job", job(1, "Frontend developer", "https://jobs.example.com/1"))
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="1"]`)

	seen := strconv.FormatInt(b.lastID(), 10)
	b.dropStreams()
	b.push("jobs", "new-job", job(2, "Backend engineer", "https://jobs.example.com/2"))
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="2"]`)
	transports, resumes := b.requests()
	if got := resumes[len(resumes)-1]; transports[len(transports)-1] != "sse" || got != seen {
		t.Errorf("reconnect: %s from %q, want sse from %q (all: %v %v)", transports[len(transports)-1], got, seen, transports, resumes)
	}
	if n := browsertest.Eval[int](t, ctx, countRows(1)); n != 1 {
		t.Errorf("job 1 has %d rows after the reconnect, want 1", n)
	}
}

func TestBrowser_ResetReloadsAndEndedSessionSignsOut(t *testing.T) {
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 8, "email": "bob@example.com", "admin": false}
	b.jobs = []map[string]any{job(1, "Frontend developer", "https://jobs.example.com/1")}
	srv := b.start()
	ctx := newPage(t)
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/?transport=poll"))
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="1"]`)
	browsertest.WaitVisible(t, ctx, "#who")
	if got := browsertest.Text(t, ctx, "#account"); strings.Contains(got, "null") || strings.Contains(got, "admin") {
		t.Errorf("account bar of a non-admin = %q", got)
	}
	browsertest.WaitTrue(t, ctx, `(c => c.dataset.state === "live" && c.dataset.meState === "live")(document.querySelector("#conn"))`)

	// reset: the page reloads the list from the API.
	b.mu.Lock()
	loads := b.jobLoads
	b.jobs = append([]map[string]any{job(2, "Backend engineer", "https://jobs.example.com/2")}, b.jobs...)
	b.mu.Unlock()
	b.push("jobs", "reset", map[string]any{})
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="2"]`)
	b.mu.Lock()
	if b.jobLoads != loads+1 {
		t.Errorf("GET /api/jobs %d times after reset, want %d", b.jobLoads, loads+1)
	}
	// The session ends on the server: the next poll of "me" is a 401.
	b.user = nil
	b.mu.Unlock()
	b.push("me", "new-job", map[string]any{"id": 3, "title": "Go developer", "url": "https://jobs.example.com/3", "alerts": []int{}})
	browsertest.WaitVisible(t, ctx, "#signin-open")
	browsertest.WaitTrue(t, ctx, `!document.querySelector("#conn").dataset.meState`)
	if got := browsertest.Text(t, ctx, "#toasts"); !strings.Contains(got, "session has ended") {
		t.Errorf("toasts = %q, want the session-ended message", got)
	}
	// The public list stays live.
	b.push("jobs", "new-job", job(4, "Data engineer", "https://jobs.example.com/4"))
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="4"]`)
}

// lastChannels returns the channels of the latest stream request.
func (b *fakeBackend) lastChannels() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.channels) == 0 {
		return ""
	}
	return b.channels[len(b.channels)-1]
}

// TestBrowser_SessionEndSignsOutEveryTab: when the server ends the session
// under the stream (session-ended over SSE, a session-ended message and
// close 4401 over WebSocket, a 401 to a waiting poll), every tab of the
// browser is signed out and says why, no private event reaches any tab
// afterwards, the stream goes on with "jobs" only, and the browser keeps
// one stream throughout.
func TestBrowser_SessionEndSignsOutEveryTab(t *testing.T) {
	for _, tr := range []string{"sse", "ws", "poll"} {
		t.Run(tr, func(t *testing.T) {
			b := newFakeBackend(t)
			b.user = map[string]any{"id": 7, "email": "ada@example.com"}
			b.alerts = []map[string]any{{"id": 11, "name": "Go in Baku", "query": "golang", "paused": false}}
			srv := b.start()
			ctx := newPage(t)
			tabs := []context.Context{newTab(t, ctx), newTab(t, ctx), newTab(t, ctx)}
			for _, tab := range tabs {
				browsertest.Do(t, tab, chromedp.Navigate(srv.URL+"/?transport="+tr+"#alerts"))
				browsertest.WaitTrue(t, tab, fmt.Sprintf(`(c => c.dataset.meState === "live" && c.dataset.transport === %q)(document.querySelector("#conn"))`, tr))
				// (The fake's alerts lack the matches of later events: push
				// the match once every tab has its alerts.)
				browsertest.WaitVisible(t, tab, `#alerts-list li[data-id="11"]`)
			}
			if got := b.lastChannels(); got != "jobs,me" && tr != "ws" {
				t.Errorf("stream channels %q, want jobs,me", got)
			}
			b.push("me", "new-job", map[string]any{"id": 9, "title": "Before the end", "url": "https://jobs.example.com/9", "alerts": []int{11}})
			for _, tab := range tabs {
				browsertest.WaitVisible(t, tab, `#alerts-list .matches li[data-id="9"]`)
			}

			b.endSession()
			for _, tab := range tabs {
				browsertest.WaitVisible(t, tab, "#signin-open")
				browsertest.WaitTrue(t, tab, `[...document.querySelectorAll("#toasts .toast")].some(e => e.textContent.includes("session has ended"))`)
				browsertest.WaitTrue(t, tab, `(c => c.dataset.state === "live" && !c.dataset.meState)(document.querySelector("#conn"))`)
			}
			b.push("me", "new-job", map[string]any{"id": 10, "title": "After the end", "url": "https://jobs.example.com/10", "alerts": []int{11}})
			b.push("jobs", "new-job", job(12, "Public after the end", "https://jobs.example.com/12"))
			for i, tab := range tabs {
				browsertest.WaitTrue(t, tab, `document.querySelector('#jobs li[data-id="12"]')`)
				if got := browsertest.Text(t, tab, "#toasts"); strings.Contains(got, "After the end") {
					t.Errorf("tab %d shows a private event after the session ended: %q", i, got)
				}
			}
			if tr != "ws" {
				if got := b.lastChannels(); got != "jobs" {
					t.Errorf("after the end the stream holds %q, want jobs", got)
				}
			}
			if tr != "poll" {
				b.waitStreams(t, tr, 1)
			}
		})
	}
}

// TestBrowser_SignInAndOutFollowEveryTab: signing in in one tab signs the
// browser's other tabs in (the stream adds "me"); signing out in another
// signs them all out, with one sign-out request.
func TestBrowser_SignInAndOutFollowEveryTab(t *testing.T) {
	b := newFakeBackend(t)
	b.alerts = []map[string]any{{"id": 11, "name": "Go in Baku", "query": "golang", "paused": false}}
	srv := b.start()
	ctx := newPage(t)
	one, two := newTab(t, ctx), newTab(t, ctx)
	for _, tab := range []context.Context{one, two} {
		browsertest.Do(t, tab, chromedp.Navigate(srv.URL+"/"))
		browsertest.WaitTrue(t, tab, `document.querySelector("#conn").dataset.state === "live"`)
		browsertest.WaitVisible(t, tab, "#signin-open")
	}
	browsertest.Do(t, two,
		chromedp.Click(chromedp.CSS("#signin-open")),
		chromedp.SendKeys(chromedp.CSS("#auth-email"), "ada@example.com"),
		chromedp.SendKeys(chromedp.CSS("#auth-password"), "password-123"),
		chromedp.Click(chromedp.CSS("#auth-login")),
	)
	for _, tab := range []context.Context{one, two} {
		browsertest.WaitVisible(t, tab, "#who")
		browsertest.WaitTrue(t, tab, `document.querySelector("#conn").dataset.meState === "live"`)
		browsertest.WaitTrue(t, tab, `document.querySelector('#alerts-list li[data-id="11"]')`)
	}
	b.push("me", "new-job", map[string]any{"id": 9, "title": "Senior Go developer", "url": "https://jobs.example.com/9", "alerts": []int{11}})
	for _, tab := range []context.Context{one, two} {
		browsertest.Do(t, tab, chromedp.Navigate(srv.URL+"/#alerts"))
		browsertest.WaitVisible(t, tab, `#alerts-list .matches li[data-id="9"]`)
	}

	browsertest.Do(t, one, chromedp.Click(chromedp.CSS("#signout")))
	for _, tab := range []context.Context{one, two} {
		browsertest.WaitVisible(t, tab, "#signin-open")
		browsertest.WaitTrue(t, tab, `(c => c.dataset.state === "live" && !c.dataset.meState)(document.querySelector("#conn"))`)
	}
	if got := browsertest.Text(t, two, "#toasts"); !strings.Contains(got, "signed out") && !strings.Contains(got, "session has ended") {
		t.Errorf("the other tab's toasts = %q, want why it was signed out", got)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.logouts != 1 {
		t.Errorf("%d sign-out requests, want 1", b.logouts)
	}
}

// TestBrowser_WithoutWebLocksEachTabStreams: where Web Locks (or
// BroadcastChannel) are missing, every tab keeps a stream of its own and
// is live on its own.
func TestBrowser_WithoutWebLocksEachTabStreams(t *testing.T) {
	b := newFakeBackend(t)
	srv := b.start()
	ctx := newPage(t)
	tabs := []context.Context{newTab(t, ctx), newTab(t, ctx)}
	for _, tab := range tabs {
		browsertest.BeforeScripts(t, tab, `delete Navigator.prototype.locks;`)
		browsertest.Do(t, tab, chromedp.Navigate(srv.URL+"/"))
		browsertest.WaitTrue(t, tab, `!("locks" in navigator) && document.querySelector("#conn").dataset.state === "live"`)
		if got := browsertest.Eval[string](t, tab, `document.querySelector("#conn").dataset.holder`); got != "here" {
			t.Errorf("a tab without Web Locks does not hold its own stream (holder %q)", got)
		}
	}
	if n := b.streams()["sse"]; n != 2 {
		t.Errorf("%d SSE streams for two tabs without Web Locks, want 2", n)
	}
	b.push("jobs", "new-job", job(7, "Designer", "https://jobs.example.com/7"))
	for _, tab := range tabs {
		browsertest.WaitVisible(t, tab, `#jobs li[data-id="7"]`)
		if n := browsertest.Eval[int](t, tab, countRows(7)); n != 1 {
			t.Errorf("job 7 has %d rows, want 1", n)
		}
	}
}
