// Package notify delivers birjob's events to clients: one hub per node
// follows the event log in PostgreSQL and fans events out over Server-Sent
// Events, WebSocket and long polling, all through one subscribe path.
//
// # The event log and its ids
//
// Writers (the matcher, the publish endpoint) insert rows into events
// through package storage (Store.AppendEvents), usually inside the
// transaction that decided them. The schema
// (migrations 001 and 005) takes one transaction-scoped advisory lock
// before a statement forms its rows, whose ids then come from the
// sequence, so ids are handed out in commit order:
// a reader that sees id N has already seen every committed id below N. An
// AFTER INSERT statement trigger sends pg_notify('birjob_events') at
// commit. Ids are decimal strings of an int64 on every transport; rolled-
// back writers leave gaps, which readers never wait for, because they ask
// for "id > N".
//
// # The hub
//
// Hub.Run keeps one dedicated connection with LISTEN birjob_events (and
// birjob_sessions, see "Sessions"). On each notification it reads every
// event after its cursor (one query per wake-up for the whole node, never
// per client), advances the cursor and
// hands each event to the subscriptions of its channel. Each event is
// encoded once per transport, on first use (most events of a large fan-out
// are for users connected to another node, or to none, and are never
// encoded here); every connection shares those bytes. When the
// LISTEN connection is lost (network, server restart, pg_terminate_backend)
// Run reconnects with backoff (100 ms doubling, at most a second apart, so
// delivery resumes within about a second of the database's return),
// LISTENs again and reads from its cursor, so events committed meanwhile
// are delivered late but never lost.
//
// # Subscribing: replay, then live, with no gap and no duplicate
//
// A client subscribes to a channel from a position (Last-Event-ID, the
// lastEventId parameter, or a WebSocket join's lastEventId). Under the lock
// that dispatch holds, the hub registers the subscription and reads its
// cursor C: every event after C will be pushed live. Events in (position,
// C] are replayed first, from the node's memory ring of recent events when
// it reaches back far enough (no query at all: long polls and quick
// reconnects cost nothing), else from the database, while live events wait
// in the subscription. Every subscription remembers the last id it queued
// and skips anything at or below it, so a client resuming on a node that is
// behind the one it came from gets no duplicate either. Without a position,
// a subscription starts at C ("only what happens from now on").
//
// Several channels on one stream (SSE and long poll, ?channels=jobs,me)
// are one subscription registered under each of its channels. Because ids
// are global and dispatched in id order, one last id serves them all: live
// events of the channels arrive already merged, the ring is filtered once
// for the set, and the database replay reads the channels in one query
// (each through the (channel, id) index, merged by id). The seam is the
// one-channel seam, so one Last-Event-ID resumes every channel of the
// stream exactly once and in order. Its cost per connection is that of a
// one-channel stream plus, per extra channel, a map entry and a string
// header; a one-channel subscription allocates nothing for its channel.
//
// The ring is bounded by count (Config.RingSize, 4096 events) and by
// memory (Config.RingBytes, 64 MiB). Each event counts 8 times its data
// plus 1 KB: an upper bound of what it holds once every transport has
// encoded it (its data, the SSE, long-poll and WebSocket frames, the
// WebSocket prepared frame; measured at 5.4 to 6.6 times the data). Small
// job events fill the count first; a burst of large ones stops at the
// budget (1,170 events of 32 KB: 238 MiB held before, 52 MiB now). An
// event that falls out of the ring is replayed from the database, so
// the bounds cost queries, never events. The budget is not an operator
// setting: the node's memory is dominated by its connections.
//
// # Retention and reset
//
// Each node purges, every PurgeInterval, the prefix of the log older than
// Retention (idempotent across nodes) and records the highest purged id in
// event_retention. A resume from below it may have lost events, so the
// client gets a "reset" event (id: the position to continue from) telling
// it to reload its state, and continues live from there.
//
// A position beyond the node's cursor is either a client that came from a
// node further ahead, or a client beyond the end of the log (a restored
// backup, a confused client). The subscription holds its live events
// while it waits a moment (100 ms) for the node to read that far, which a
// node merely behind does within milliseconds, so clients moving between
// nodes cost no query; only then one query (storage LogEnd: the newest id
// the log has had) tells which. In the first case the subscription
// continues after the client's position (no reset, no duplicate); in the
// second the client
// gets a reset whose id is the node's cursor (reason "ahead of the log")
// and continues live from there, on every transport.
//
// # Slow clients
//
// Dispatch never blocks on a connection: it appends to the connection's
// queue (at most QueueSize frames) and, if no writer is running, hands the
// connection to a writer goroutine: one that has finished an earlier flush
// and waits a few seconds for more (its stack already grown), else a new
// one. A stuck write holds up only its own writer. A client whose
// queue is full, or whose write has blocked longer than WriteTimeout, is
// disconnected (a WebSocket whose keepalive ping goes unanswered that
// long too); it resumes from its last id and loses nothing. Everyone
// else is unaffected.
//
// Writes set no deadline (a runtime timer per write and connection, set
// and fired 10,000 times per event, is measurable). Blocked writes are
// found by a watchdog instead, every tenth of WriteTimeout (at most a
// second): each writer goroutine names the client it is flushing, with
// the time its write began, and the watchdog visits only those, never the
// idle connections. A blocked write is thus found between WriteTimeout and
// 1.1 × WriteTimeout (with the default 10 s and five stuck clients:
// 10.1 s; before, the keepalive wheel found it at the client's next visit
// after WriteTimeout, measured at 21–23 s).
//
// # Idle connections
//
// An idle SSE connection holds no goroutine: after the response head is
// written the HTTP/1.x connection is hijacked, net/http's goroutines and
// buffers are released, and only the socket and a small struct remain.
// Keepalives come from one wheel per hub (50 slots, each visited
// once per Keepalive interval), not from per-connection timers.
//
// A client that leaves is closed at the wheel's next visit, within one
// keepalive interval: the visit first reads the hijacked socket without
// blocking (nothing else reads it after the request), and end of stream
// or a reset closes the connection at once. A keepalive write alone
// would not do: the first write after the peer's FIN goes into the
// kernel's buffer and succeeds, only the next one, an interval later,
// fails (1,000 closed tabs held 1,000 descriptors for 25–50 s; now at
// most 25 s). The read costs one system call per connection and
// interval, answered EAGAIN: measured (BenchmarkPeerCheck, 9,000 live
// connections) at 3–6 µs per connection on the shared 2-core build box,
// where a system call alone costs 2–4 µs and the keepalive write about
// 10 µs: 30–60 ms of CPU per interval for 10,000 connections, under
// 0.25 % of one core at 25 s. Bytes a client sends after its request are
// read and dropped; a client that half-closes its side counts as gone,
// as net/http counts it. On HTTP/2 (no hijacking) the handler keeps its
// goroutine, writes through the ResponseWriter, and net/http ends its
// context when the peer leaves; a waiting long poll keeps its handler's
// goroutine too, freed the same way at once; a WebSocket's reader sees
// the close at once.
//
// A WebSocket keeps one goroutine, its reader, started after the upgrade
// so that the HTTP handler returns and net/http releases the request and
// its buffers; commands run on short-lived goroutines so the reader's stack
// stays small. WebSockets use gorilla/websocket, whose PreparedMessage
// frames an event once for every connection (a server's frames are not
// masked) and writes it with one system call each, with no write buffer
// kept per connection; keepalives are protocol pings, and a peer that
// leaves one unanswered for WriteTimeout is closed. Measured with
// cmd/birjob-load (BENCHMARKS.md): about 8.6 KB per idle WebSocket (3.6 KB
// heap, 4 KB stack), against 25 KB with coder/websocket and the reader on
// the handler's goroutine.
//
// # SSE and r3labs/sse
//
// r3labs/sse/v2 (v2.10.0) is used for its Event type, which describes
// every frame birjob writes; its Server is not used, because of its traps
// (see the spec, "Known library traps"): its EventLog renumbers ids and
// replays the last event again, so replay comes from our log with our ids,
// verbatim; its stream publisher blocks on one slow subscriber, so fan-out
// and the slow-client policy are the hub's; an event with neither data nor
// comment ends its stream, so our encoder always writes a data line (null
// when empty); it parses Last-Event-ID with strconv.Atoi, so we parse
// int64 ourselves and answer 400 to a malformed one. Its per-stream
// goroutines and 1024-slot channel would also cost each idle connection far
// more memory than a bare net/http stream. Each trap has a test
// (TestSSE_ResumeVerbatimIDs, TestSSE_SlowClientIsolated,
// TestSSE_EventWithoutDataKeepsStream).
//
// # Wire protocol
//
// SSE: GET /api/events/{channel}, or several channels on one stream: GET
// /api/events?channels=jobs,me (1 to MaxStreamChannels distinct names,
// order irrelevant; one refused channel refuses the request: 400 for a
// malformed list, 401 for "me" anonymous, 404 for an unknown feed, the
// error naming it). First "retry: <ms>" and "event: connected" with data
// {"channel":"jobs,me","channels":["jobs","me"],"timestamp"}, written
// once the stream is counted and subscribed (the response head waits for
// it too), so an event committed after a client read "connected" reaches
// it (a WebSocket's "joined" likewise); then "id",
// "event", "data" per event; ": keepalive" comments. Every event's data
// object starts with "channel", the subscribed channel it belongs to ("me"
// for the user's own; set when the frame is built, once per event; data
// that is not an object is left as is). Long poll: GET
// /api/poll/{channel}?timeout=<ms>&lastEventId=<id> or GET
// /api/poll?channels=…&…; each event also carries "channel" in its data;
// the answer's lastEventId is always the position to continue from.
// Resets: SSE "id: <n>", "event: reset", data {"lastEventId","reason"};
// long poll an event of type reset and lastEventId n; WebSocket
// {"type":"reset","room","lastEventId",…}. WebSocket: GET
// /api/ws with JSON messages welcome, join/joined, leave/left, ping/pong,
// error, and events {"type","id","room","data","timestamp"}; a text
// message that is not UTF-8 closes with 1007 (RFC 6455 §8.1); the Origin
// must be the request's host or match Config.AllowedOrigins. Publish: POST
// /api/publish/{channel} (admins; served by package api, which asks the hub
// through Hub.PublishTarget and Hub.MemberCount) stores the event like any
// other; its clientCount is this node's subscriber count. Admins may also
// publish to "user:<id>".
//
// # Channels and authorisation
//
// "jobs" is public; "me" is the signed-in user's own channel (stored as
// user:<id>; 401 for anonymous); any other name must be an existing public
// feed (404 otherwise). Feed names never contain ':', so no client-chosen
// name can reach a user's channel, on any transport.
//
// # Sessions
//
// A stream opened with a credential (auth.Principal.TokenHash: a session
// cookie or a bearer token) ends when the credential ends, on every node,
// within moments. Deleting an auth_tokens row (logout, revocation, a
// user's deletion, the expiry purge) notifies birjob_sessions with the hex
// of its hash (migration 007); the hub LISTENs on it on its one LISTEN
// connection and closes the connections it tracks for that credential:
// SSE with "event: session-ended" (data {"reason"}) and the end of the
// response; WebSocket with {"type":"session-ended","reason"} and close
// status 4401 (CloseSessionEnded); a waiting long poll answers 401
// {"error","sessionEnded":true}. Later requests with the dead credential
// are anonymous, so "me" answers 401. Three gaps are closed: a WebSocket
// looks its credential up on every join (one indexed query per join, none
// per waiting client), so a socket opened before a logout cannot join
// afterwards; a connection registering with a credential that ended in
// the last minute (its request was signed in just before) is refused with
// the same signal; and when the LISTEN connection comes back, the
// credentials held are checked in one query, for ends announced while it
// was down. Connections opened without a credential are not tracked and
// cost nothing here.
//
// # Shutdown
//
// Hub.Shutdown stops new subscriptions, ends SSE streams with a "retry:"
// hint, closes WebSockets with status 1012 (service restart) and answers
// waiting long polls at once, so clients reconnect, to another node or to
// this one after restart, from their last id. Healthy clients take the
// hint within milliseconds; whatever has not after 2 s (a client whose
// write is blocked never will) is closed, so a stop with stuck clients
// takes 2 s, not the write timeout or the shutdown timeout (five stuck
// clients held a stop for 16–20 s before, up to the 20 s shutdown
// timeout). Call it before
// http.Server.Shutdown, which does not track hijacked connections.
package notify
