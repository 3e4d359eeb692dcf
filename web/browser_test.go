package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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

// fakeBackend is a minimal real backend for the page: /api/jobs from a
// slice, /api/events/{channel} as a real SSE stream and /api/poll/{channel}
// as real long polling, both following one event log with resume by id.
// Everything else answers 404 like a server without that part.
type fakeBackend struct {
	t         *testing.T
	mu        sync.Mutex
	jobs      []map[string]any // newest first
	events    []fakeEvent
	changed   chan struct{} // closed and replaced on every push
	drop      chan struct{} // closed and replaced by dropStreams
	stop      chan struct{}
	wsJoins   []map[string]any // join messages the WebSocket got
	jobLoads  int              // GET /api/jobs requests
	jobsGate  chan struct{}    // when set, GET /api/jobs waits until it is closed
	alertGate chan struct{}    // the same for GET /api/alerts
	sseStatus int              // when not 0, SSE answers this status
	user      map[string]any   // /api/me; nil: 401
	alerts    []map[string]any
	notFound  map[string]bool // paths that answer 404 with an error body
	resumes   []string        // lastEventId of each stream/poll request, in order
	transport []string        // "sse" / "poll", per request
}

func TestMain(m *testing.M) { browsertest.Main(m) }

func newFakeBackend(t *testing.T) *fakeBackend {
	return &fakeBackend{t: t, changed: make(chan struct{}), drop: make(chan struct{}), stop: make(chan struct{}), notFound: map[string]bool{}}
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

// after returns the channel's events after id, and the channel to wait on.
func (b *fakeBackend) after(channel string, id int64) ([]fakeEvent, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []fakeEvent
	for _, e := range b.events {
		if e.Channel == channel && e.ID > id {
			out = append(out, e)
		}
	}
	return out, b.changed
}

func (b *fakeBackend) lastID() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.events) == 0 {
		return 0
	}
	return b.events[len(b.events)-1].ID
}

func (b *fakeBackend) record(transport, lastEventID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.resumes = append(b.resumes, lastEventID)
	b.transport = append(b.transport, transport)
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

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (b *fakeBackend) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", web.Handler(web.Options{Title: "birjob test"}))
	mux.HandleFunc("GET /api/jobs", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		gate := b.jobsGate
		b.jobLoads++
		b.mu.Unlock()
		if !passGate(gate, r) {
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		writeJSON(w, 200, map[string]any{"jobs": b.jobs})
	})
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.user == nil {
			writeJSON(w, 401, map[string]string{"error": "sign in first"})
			return
		}
		writeJSON(w, 200, b.user)
	})
	mux.HandleFunc("GET /api/alerts", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		gate := b.alertGate
		b.mu.Unlock()
		if !passGate(gate, r) {
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		writeJSON(w, 200, map[string]any{"alerts": b.alerts})
	})
	mux.HandleFunc("GET /api/feeds", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, []map[string]any{{"id": 1, "name": "job-alerts-baku", "title": "Jobs in Baku", "location": "Baku"}})
	})
	mux.HandleFunc("GET /api/admin/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"clients": map[string]int{"sse": 3, "ws": 1, "poll": 0}, "eventsPerSecond": 2.5, "node": "a"})
	})
	mux.HandleFunc("GET /api/events/{channel}", b.serveSSE)
	mux.HandleFunc("GET /api/poll/{channel}", b.servePoll)
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
	for _, prefix := range []string{"/api/jobs", "/api/me", "/api/alerts", "/api/feeds", "/api/admin/stats", "/api/events/", "/api/poll/", "/api/ws"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

func (b *fakeBackend) serveSSE(w http.ResponseWriter, r *http.Request) {
	channel := r.PathValue("channel")
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("lastEventId")
	}
	b.record("sse", last)
	b.mu.Lock()
	status, user := b.sseStatus, b.user
	b.mu.Unlock()
	if status != 0 {
		writeJSON(w, status, map[string]string{"error": "sse is broken in this test"})
		return
	}
	if channel == "me" && user == nil {
		writeJSON(w, 401, map[string]string{"error": "sign in first"})
		return
	}
	drop := b.dropped()
	cursor, _ := strconv.ParseInt(last, 10, 64)
	if last == "" {
		cursor = b.lastID()
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	fmt.Fprintf(w, "retry: 1000\n\nevent: connected\ndata: {\"channel\":%q,\"timestamp\":%d}\n\n", channel, time.Now().UnixMilli())
	if err := rc.Flush(); err != nil {
		return
	}
	for {
		evs, changed := b.after(channel, cursor)
		for _, e := range evs {
			data, _ := json.Marshal(e.Data)
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Type, data)
			cursor = e.ID
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-changed:
		case <-drop:
			return
		case <-r.Context().Done():
			return
		case <-b.stop:
			return
		}
	}
}

// serveWS speaks the page's side of the WebSocket protocol: welcome, join
// (with resume), joined, events of the joined rooms, pong.
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
	ctx := r.Context()
	drop := b.dropped()
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
			evs, _ := b.after(room, cursor)
			for _, e := range evs {
				msg := map[string]any{"type": e.Type, "id": strconv.FormatInt(e.ID, 10), "room": room, "data": e.Data, "timestamp": time.Now().UnixMilli()}
				if err := wsjson.Write(ctx, conn, msg); err != nil {
					return
				}
				rooms[room] = e.ID
			}
		}
		_, changed := b.after("", 0)
		select {
		case m, ok := <-msgs:
			if !ok {
				return
			}
			switch m["type"] {
			case "join":
				b.mu.Lock()
				b.wsJoins = append(b.wsJoins, m)
				b.mu.Unlock()
				room, _ := m["room"].(string)
				last, _ := m["lastEventId"].(string)
				b.record("ws", last)
				cursor, err := strconv.ParseInt(last, 10, 64)
				if err != nil {
					cursor = b.lastID()
				}
				rooms[room] = cursor
				_ = wsjson.Write(ctx, conn, map[string]any{"type": "joined", "room": room, "memberCount": 1})
			case "ping":
				_ = wsjson.Write(ctx, conn, map[string]any{"type": "pong", "timestamp": time.Now().UnixMilli()})
			default:
				_ = wsjson.Write(ctx, conn, map[string]any{"type": "error", "message": "unknown type"})
			}
		case <-changed:
		case <-drop:
			return
		case <-b.stop:
			return
		}
	}
}

func (b *fakeBackend) servePoll(w http.ResponseWriter, r *http.Request) {
	channel := r.PathValue("channel")
	last := r.URL.Query().Get("lastEventId")
	b.record("poll", last)
	b.mu.Lock()
	user := b.user
	b.mu.Unlock()
	if channel == "me" && user == nil {
		writeJSON(w, 401, map[string]string{"error": "sign in first"})
		return
	}
	cursor, _ := strconv.ParseInt(last, 10, 64)
	if last == "" {
		cursor = b.lastID()
	}
	timeout, err := strconv.Atoi(r.URL.Query().Get("timeout"))
	if err != nil || timeout <= 0 || timeout > 30000 {
		timeout = 30000
	}
	timer := time.NewTimer(time.Duration(timeout) * time.Millisecond)
	defer timer.Stop()
	for {
		evs, changed := b.after(channel, cursor)
		if len(evs) > 0 {
			out := make([]map[string]any, len(evs))
			for i, e := range evs {
				out[i] = map[string]any{"id": strconv.FormatInt(e.ID, 10), "type": e.Type, "data": e.Data, "timestamp": time.Now().UnixMilli()}
			}
			writeJSON(w, 200, map[string]any{"events": out, "lastEventId": strconv.FormatInt(evs[len(evs)-1].ID, 10)})
			return
		}
		select {
		case <-changed:
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
	ctx := browsertest.New(t)

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

// A job announced while the first page of the list is still loading stays
// on the list when the (older) answer arrives and replaces it.
func TestBrowser_EventDuringFirstLoadStays(t *testing.T) {
	b := newFakeBackend(t)
	b.jobs = []map[string]any{job(1, "Frontend developer", "https://jobs.example.com/1")}
	b.jobsGate = make(chan struct{})
	srv := b.start()
	ctx := browsertest.New(t)

	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/"))
	browsertest.WaitTrue(t, ctx, `document.querySelector("#conn").dataset.state === "live"`)
	b.push("jobs", "new-job", job(7, "Announced while loading", "https://jobs.example.com/7"))
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="7"]`)
	close(b.jobsGate)
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="1"]`)
	if got := browsertest.Eval[[]string](t, ctx, `[...document.querySelectorAll("#jobs > li")].map(li => li.dataset.id)`); strings.Join(got, ",") != "7,1" {
		t.Errorf("rows after the first load = %v, want [7 1]: the announced job on top, kept", got)
	}
}

func TestBrowser_FallsBackToLongPoll(t *testing.T) {
	b := newFakeBackend(t)
	b.sseStatus = http.StatusInternalServerError
	b.notFound["/api/ws"] = true
	b.jobs = []map[string]any{job(1, "Frontend developer", "https://jobs.example.com/1")}
	srv := b.start()
	ctx := browsertest.New(t)

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
	ctx := browsertest.New(t)
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

func TestBrowser_SignedInAlertsAndAdmin(t *testing.T) {
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 7, "email": "ada@example.com", "admin": true}
	b.alerts = []map[string]any{{
		"id": 11, "name": "Go in Baku", "query": "golang", "location": "Baku", "paused": false,
		"matches": []map[string]any{job(1, "Go developer", "https://jobs.example.com/1")},
	}}
	b.notFound["/api/sources"] = true // a missing endpoint must not break the rest
	srv := b.start()
	ctx := browsertest.New(t)

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
	browsertest.WaitVisible(t, ctx, `#feeds-list li[data-id="1"]`)
	browsertest.WaitVisible(t, ctx, `#sources-error`)
	if got := browsertest.Text(t, ctx, "#sources-error"); !strings.Contains(got, "no route /api/sources") {
		t.Errorf("sources error = %q", got)
	}
	browsertest.WaitVisible(t, ctx, `#stats .stat`)
	if got := browsertest.Text(t, ctx, "#stats"); !strings.Contains(got, "clients.sse") || !strings.Contains(got, "2.5") {
		t.Errorf("stats = %q", got)
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

// A match announced while the alerts are still loading is shown under its
// alert once they arrive, though the (older) answer lacks it.
func TestBrowser_MatchDuringAlertsLoadStays(t *testing.T) {
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 7, "email": "ada@example.com"}
	b.alerts = []map[string]any{{"id": 11, "name": "Go in Baku", "query": "golang", "paused": false, "matches": []map[string]any{}}}
	b.alertGate = make(chan struct{})
	srv := b.start()
	ctx := browsertest.New(t)

	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/#alerts"))
	browsertest.WaitTrue(t, ctx, `document.querySelector("#conn").dataset.meState === "live"`)
	b.push("me", "new-job", map[string]any{"id": 9, "title": "Senior Go developer", "url": "https://jobs.example.com/9", "alerts": []int{11}})
	browsertest.WaitVisible(t, ctx, `#toasts .toast.match`)
	close(b.alertGate)
	browsertest.WaitVisible(t, ctx, `#alerts-list li[data-id="11"] .matches li[data-id="9"]`)
	if n := browsertest.Eval[int](t, ctx, `document.querySelectorAll("#toasts .toast.match").length`); n != 1 {
		t.Errorf("%d match toasts, want 1", n)
	}
}

func TestBrowser_FallsBackToWebSocketAndResumes(t *testing.T) {
	b := newFakeBackend(t)
	b.sseStatus = http.StatusServiceUnavailable
	b.jobs = []map[string]any{job(1, "Frontend developer", "https://jobs.example.com/1")}
	srv := b.start()
	ctx := browsertest.New(t)

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
	ctx := browsertest.New(t)
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
	ctx := browsertest.New(t)
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
