package notify

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// sessionEndBound is the protocol's bound: a session's end reaches every
// stream it opened, on every node, within it.
const sessionEndBound = 2 * time.Second

// startAuthNode starts a node behind the real auth middleware, with a
// POST /api/logout beside the hub's routes that ends the session the way
// the account API does (auth.Service.EndSession).
func startAuthNode(t *testing.T, pool *pgxpool.Pool, cfg Config) (*node, *auth.Service) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc := auth.NewService(storage.New(pool), log, auth.WithHashCost(bcrypt.MinCost))
	n := startNodeWith(t, pool, cfg, func(mux *http.ServeMux) http.Handler {
		mux.HandleFunc("POST /api/logout", func(w http.ResponseWriter, r *http.Request) {
			if err := svc.EndSession(r.Context(), r); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			auth.ClearSessionCookie(w)
		})
		return svc.Middleware(mux)
	})
	return n, svc
}

// signIn creates a user and n sessions of theirs, and returns the user id
// and the sessions' cookies as request headers.
func signIn(t *testing.T, svc *auth.Service, email string, n int) (int64, []map[string]string) {
	t.Helper()
	u, err := svc.Signup(t.Context(), email, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	var hdrs []map[string]string
	for range n {
		tok, _, err := svc.StartSession(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		hdrs = append(hdrs, map[string]string{"Cookie": auth.CookieName + "=" + tok})
	}
	return u.ID, hdrs
}

// logout signs the session of hdr out through POST /api/logout on base.
func logout(t *testing.T, base string, hdr map[string]string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/logout", nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
}

// expectSSESessionEnded reads c until the stream ends and checks that its
// last frame was session-ended; no event of the user arrives before it.
func expectSSESessionEnded(t *testing.T, what string, c *sseClient, since time.Time) {
	t.Helper()
	var last frame
	deadline := time.After(waitFor)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				if last.Event != "session-ended" || !strings.Contains(last.Data, `"reason":"your session ended; sign in again"`) {
					t.Errorf("%s: stream ended after %+v, want a session-ended frame", what, last)
				}
				if d := time.Since(since); d > sessionEndBound {
					t.Errorf("%s: ended %v after the logout, want within %v", what, d, sessionEndBound)
				}
				return
			}
			if f.Comment == "" {
				last = f
			}
		case <-deadline:
			t.Fatalf("%s: stream still open %v after the logout", what, waitFor)
		}
	}
}

// expectWSSessionEnded reads c until it closes and checks for the
// session-ended message and close status 4401.
func expectWSSessionEnded(t *testing.T, what string, c *wsClient, since time.Time) {
	t.Helper()
	var last map[string]any
	deadline := time.After(waitFor)
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				if last["type"] != "session-ended" || last["reason"] != sessionEndedMsg {
					t.Errorf("%s: closed after %v, want a session-ended message", what, last)
				}
				if s := websocket.CloseStatus(c.err); s != CloseSessionEnded {
					t.Errorf("%s: close status %v (%v), want %d", what, s, c.err, CloseSessionEnded)
				}
				if d := time.Since(since); d > sessionEndBound {
					t.Errorf("%s: closed %v after the logout, want within %v", what, d, sessionEndBound)
				}
				return
			}
			if m["type"] == "joined" && m["room"] == "me" {
				t.Errorf("%s: joined me after the session ended", what)
			}
			last = m
		case <-deadline:
			t.Fatalf("%s: socket still open %v after the logout", what, waitFor)
		}
	}
}

// TestSession_LogoutClosesStreamsOnOtherNode: a logout on node A closes,
// within two seconds, the SSE stream, the WebSockets and the waiting long
// poll that session opened on node B, each with its transport's signal;
// a socket opened before the logout cannot join "me" afterwards; another
// session of the same user, and another user, keep their streams.
func TestSession_LogoutClosesStreamsOnOtherNode(t *testing.T) {
	url := pgtest.NewURL(t)
	a, svcA := startAuthNode(t, newPool(t, url), Config{})
	b, _ := startAuthNode(t, newPool(t, url), Config{})
	aliceID, aliceSessions := signIn(t, svcA, "alice@example.com", 2)
	_, bobSessions := signIn(t, svcA, "bob@example.com", 1)
	gone, kept, bob := aliceSessions[0], aliceSessions[1], bobSessions[0]

	sse := openSSE(t, b.srv.URL, "/api/events?channels=jobs,me", gone)
	sse.connected(t)
	sseJobs := openSSE(t, b.srv.URL, "/api/events/jobs", gone) // opened with the session, though public
	sseJobs.connected(t)
	ws := dialWS(t, b.srv.URL, header(gone))
	ws.next(t)
	ws.send(t, `{"type":"join","room":"me"}`)
	ws.next(t)
	ws.send(t, `{"type":"join","room":"jobs"}`)
	ws.next(t)
	wsLate := dialWS(t, b.srv.URL, header(gone)) // opened before the logout, joins after
	wsLate.next(t)
	polled := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest("GET", b.srv.URL+"/api/poll?channels=jobs,me&timeout=20000", nil)
		req.Header.Set("Cookie", gone["Cookie"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("poll: %v", err)
			close(polled)
			return
		}
		polled <- resp
	}()
	keptSSE := openSSE(t, b.srv.URL, "/api/events?channels=jobs,me", kept)
	keptSSE.connected(t)
	bobWS := dialWS(t, b.srv.URL, header(bob))
	bobWS.next(t)
	bobWS.send(t, `{"type":"join","room":"me"}`)
	bobWS.next(t)
	waitUntil(t, "node B holds every stream", func() bool {
		st := b.hub.Stats()
		return st.Connections["sse"] == 3 && st.Connections["ws"] == 3 && st.Connections["poll"] == 1
	})

	logout(t, a.srv.URL, gone)
	t0 := time.Now()
	// The join may come before or after the node closes the socket; either
	// way it must not be joined (TestSession_WebSocketJoinChecksSession
	// checks the join on its own).
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	_ = wsLate.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"join","room":"me","lastEventId":"0"}`))
	cancel()
	expectSSESessionEnded(t, "sse jobs,me", sse, t0)
	expectSSESessionEnded(t, "sse jobs", sseJobs, t0)
	expectWSSessionEnded(t, "ws", ws, t0)
	expectWSSessionEnded(t, "ws joining me after the logout", wsLate, t0)
	resp, ok := <-polled
	if !ok {
		t.FailNow()
	}
	var body struct {
		Error        string `json:"error"`
		SessionEnded bool   `json:"sessionEnded"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !body.SessionEnded || body.Error != sessionEndedMsg {
		t.Errorf("waiting poll: %d %+v, want 401 with sessionEnded", resp.StatusCode, body)
	}
	if d := time.Since(t0); d > sessionEndBound {
		t.Errorf("waiting poll answered %v after the logout, want within %v", d, sessionEndBound)
	}
	// Later polls with the dead cookie are anonymous: "me" answers 401.
	if status, _ := poll(t, b.srv.URL, "/api/poll?channels=jobs,me&timeout=0", gone); status != 401 {
		t.Errorf("poll with the dead cookie: %d, want 401", status)
	}

	// The other session and the other user are untouched.
	mine := appendEv(t, b.hub.pool, model.UserChannel(aliceID), "new-job", `{}`)
	if got := keptSSE.nextIDs(t, 1); got[0] != mine {
		t.Errorf("other session: got %v, want %d", got, mine)
	}
	bobWS.send(t, `{"type":"ping"}`)
	if m := bobWS.next(t); m["type"] != "pong" {
		t.Errorf("bob's socket: %v, want pong", m)
	}
	waitUntil(t, "node B holds only the other session's SSE and bob's socket", func() bool {
		st := b.hub.Stats()
		return st.Connections["sse"] == 1 && st.Connections["ws"] == 1 && st.Connections["poll"] == 0
	})
}

// TestSession_WebSocketJoinChecksSession: a socket whose session ended
// cannot join, even when no notification told the node (the check is a
// lookup per join).
func TestSession_WebSocketJoinChecksSession(t *testing.T) {
	pool := pgtest.New(t)
	n, svc := startAuthNode(t, pool, Config{})
	_, sessions := signIn(t, svc, "alice@example.com", 1)
	ws := dialWS(t, n.srv.URL, header(sessions[0]))
	ws.next(t)
	ws.send(t, `{"type":"join","room":"jobs"}`)
	if m := ws.next(t); m["type"] != "joined" {
		t.Fatalf("join: %v", m)
	}
	if _, err := pool.Exec(t.Context(), `ALTER TABLE auth_tokens DISABLE TRIGGER auth_tokens_notify_end`); err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimPrefix(sessions[0]["Cookie"], auth.CookieName+"=")
	if err := storage.New(pool).DeleteToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	ws.send(t, `{"type":"join","room":"me","lastEventId":"0"}`)
	expectWSSessionEnded(t, "ws", ws, t0)
}

// TestSession_EndedWhileListenerDown: a session that ends while the
// node's LISTEN connection is down (its notification lost) still closes
// its streams: the node checks the sessions it holds when it listens again.
func TestSession_EndedWhileListenerDown(t *testing.T) {
	pool := pgtest.New(t)
	n, svc := startAuthNode(t, pool, Config{})
	_, sessions := signIn(t, svc, "alice@example.com", 2)
	c := openSSE(t, n.srv.URL, "/api/events?channels=jobs,me", sessions[0])
	c.connected(t)
	other := openSSE(t, n.srv.URL, "/api/events?channels=jobs,me", sessions[1])
	other.connected(t)
	// No notification: as if it was sent while nobody listened.
	if _, err := pool.Exec(t.Context(), `ALTER TABLE auth_tokens DISABLE TRIGGER auth_tokens_notify_end`); err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimPrefix(sessions[0]["Cookie"], auth.CookieName+"=")
	if err := storage.New(pool).DeleteToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	pid := n.hub.listenPID.Load()
	if _, err := pool.Exec(t.Context(), "SELECT pg_terminate_backend($1)", int32(pid)); err != nil {
		t.Fatal(err)
	}
	expectSSESessionEnded(t, "sse", c, time.Now())
	id := appendEv(t, pool, "jobs", "new-job", `{}`)
	if got := other.nextIDs(t, 1); got[0] != id {
		t.Errorf("other session: %v, want %d", got, id)
	}
}

// TestSession_RefusedAfterEnd: a stream whose request was signed in just
// before its session ended (the notification came first) is refused when
// it registers, with the transport's signal.
func TestSession_RefusedAfterEnd(t *testing.T) {
	n := startNode(t, pgtest.New(t), Config{})
	hash := hex.EncodeToString(storage.HashToken("bjs_ended"))
	n.hub.endSession(hash)
	hdr := map[string]string{"X-Test-User": "1", "X-Test-Session": hash}
	c := openSSE(t, n.srv.URL, "/api/events?channels=jobs,me", hdr)
	expectSSESessionEnded(t, "sse", c, time.Now())
	if status, _ := poll(t, n.srv.URL, "/api/poll?channels=jobs,me&timeout=20000", hdr); status != 401 {
		t.Errorf("poll: %d, want 401", status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(n.srv.URL, "http")+"/api/ws", &websocket.DialOptions{HTTPHeader: header(hdr)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	_, msg, err := conn.Read(ctx)
	if err != nil || !strings.Contains(string(msg), `"type":"session-ended"`) {
		t.Fatalf("ws first message %s (%v), want session-ended", msg, err)
	}
	if _, _, err := conn.Read(ctx); websocket.CloseStatus(err) != CloseSessionEnded {
		t.Fatalf("ws close: %v, want status %d", err, CloseSessionEnded)
	}
	// Other credentials are not affected.
	ok := openSSE(t, n.srv.URL, "/api/events?channels=jobs,me", map[string]string{"X-Test-User": "1", "X-Test-Session": "00"})
	ok.connected(t)
}
