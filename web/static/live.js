// live.js — a reusable client for birjob's event channels.
//
// subscribe(channel, handlers, options) keeps one channel's events flowing
// over the best transport that works:
//
//   1. Server-Sent Events  GET /api/events/<channel>?lastEventId=<id>
//   2. WebSocket           GET /api/ws, then {"type":"join","room":…}
//   3. long polling        GET /api/poll/<channel>?timeout=…&lastEventId=<id>
//
// A transport that never came up on this page (no "connected", no
// "joined", no poll answer) is given up at once for the next one. One that
// worked before and now fails to connect is retried with exponential backoff
// and jitter: the server is probably restarting. One that keeps dropping
// right after it comes up (a proxy that breaks streams) is given up after a
// few tries. Every (re)connect resumes after the last event id seen, which
// is also kept in sessionStorage so a reload resumes too. Events whose id is
// not above the last one seen are dropped, so a transport switch or a replay
// never delivers an event twice.
//
// "?transport=sse|ws|poll" in the page URL (or options.transport) pins the
// transport: no fallback then.

/** Transports in fallback order. */
export const TRANSPORTS = ["sse", "ws", "poll"];

/** Human names of the transports, for the connection pill. */
export const TRANSPORT_NAMES = { sse: "SSE", ws: "WebSocket", poll: "long-poll" };

/** Named SSE events a client listens to. */
const EVENT_TYPES = ["new-job", "job-expired", "reset", "message"];

const POLL_TIMEOUT_MS = 25000;
const WS_PING_MS = 20000;
// Failures in a row after which a transport that used to work is given up.
const MAX_FAILURES = 4;
// A connection that drops sooner than this after coming up counts as failed.
const FLAP_MS = 10000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30000;
// Answers of the long poll that end a subscription instead of a retry.
const FATAL_STATUS = [401, 403, 404];

// The transport that last worked, shared by all subscriptions of the page,
// so a second channel starts where the first one ended up.
let preferred = null;

/** forcedTransport reads ?transport= from the page URL. */
export function forcedTransport() {
  const t = new URLSearchParams(location.search).get("transport");
  return TRANSPORTS.includes(t) ? t : null;
}

/**
 * backoff returns the delay before reconnect attempt n (0-based): an
 * exponential step, capped, with "equal jitter" so clients that lost the
 * same server do not come back in lockstep.
 */
export function backoff(n) {
  const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(n, 16));
  return step / 2 + Math.random() * (step / 2);
}

/** newer reports whether event id a is above id b (decimal 64-bit strings). */
function newer(a, b) {
  if (!b) return true;
  try {
    return BigInt(a) > BigInt(b);
  } catch {
    return true; // not a number: let it through rather than lose it
  }
}

function storageGet(key) {
  try {
    return sessionStorage.getItem(key) || "";
  } catch {
    return ""; // storage disabled
  }
}

function storageSet(key, value) {
  try {
    sessionStorage.setItem(key, value);
  } catch {
    // storage disabled or full: the in-memory id still works
  }
}

/**
 * subscribe opens a channel.
 *
 * handlers: {
 *   onEvent({id, type, data, timestamp})  new-job / job-expired, in order
 *   onReset()                             the server lost our position: reload state
 *   onState({state, transport})           state: "connecting" | "live" | "reconnecting" | "closed"
 *   onFatal({status})                     the server refused the channel (401, 403, 404); closed
 * }
 * options: {
 *   transport   "sse" | "ws" | "poll" to pin one (default: ?transport= or automatic)
 *   storageKey  sessionStorage key of the last event id (default "birjob:last:<channel>")
 *   lastEventId start position (default: the stored one, else "now")
 * }
 *
 * Returns {close(), get transport(), get lastEventId()}.
 */
export function subscribe(channel, handlers = {}, options = {}) {
  const pinned = options.transport || forcedTransport();
  const key = options.storageKey || `birjob:last:${channel}`;
  let lastEventId = options.lastEventId ?? storageGet(key);
  let transport = pinned || preferred || "sse";
  let failures = 0; // failed attempts in a row on the current transport
  let closed = false;
  let stopCurrent = null; // closes the running transport attempt
  let timer = null;
  let state = "";

  const setState = (s) => {
    if (s + transport === state) return;
    state = s + transport;
    handlers.onState?.({ state: s, transport });
  };

  // deliver handles one event of any transport. Every event with an id
  // moves the position; "position" only does that.
  const deliver = (ev) => {
    if (closed || !ev || typeof ev.type !== "string") return;
    if (ev.id) {
      if (!newer(String(ev.id), lastEventId)) return; // already seen
      lastEventId = String(ev.id);
      storageSet(key, lastEventId);
    }
    if (ev.type === "position") return;
    if (ev.type === "reset") {
      // Our position is gone. Without a new one from the server, start
      // from "now": the page reloads its state anyway.
      if (!ev.id) {
        lastEventId = "";
        storageSet(key, "");
      }
      handlers.onReset?.();
      return;
    }
    try {
      handlers.onEvent?.(ev);
    } catch (err) {
      console.warn("birjob: event handler failed", err);
    }
  };

  // Transports that came up at least once for this subscription.
  const everUp = {};

  // open starts one attempt on the current transport. The attempt calls
  // up() once it is live and down() once when it ends.
  const open = () => {
    timer = null;
    if (closed) return;
    let ended = false;
    let upAt = 0;
    const up = () => {
      if (ended || closed || upAt) return;
      upAt = Date.now();
      everUp[transport] = true;
      if (!pinned) preferred = transport;
      setState("live");
    };
    const down = (fatal) => {
      if (ended) return;
      ended = true;
      stopCurrent = null;
      if (closed) return;
      // The server refused the channel itself (401 signed out, 403, 404
      // unknown feed): retrying cannot help.
      if (fatal) {
        closed = true;
        setState("closed");
        handlers.onFatal?.(fatal);
        return;
      }
      // A connection that stayed up a while was fine: start counting anew.
      if (upAt && Date.now() - upAt > FLAP_MS) failures = 0;
      failures++;
      const i = TRANSPORTS.indexOf(transport);
      const canFallBack = !pinned && i < TRANSPORTS.length - 1;
      // Never came up on this page: the transport is blocked (proxy,
      // server without it), take the next one now. Came up before and
      // fails to connect now: the server is probably restarting, retry.
      // Keeps coming up and dropping at once: a proxy breaks it, move on.
      const neverWorked = !upAt && !everUp[transport];
      const flapping = upAt && failures >= MAX_FAILURES;
      if (canFallBack && (neverWorked || flapping)) {
        transport = TRANSPORTS[i + 1];
        failures = 0;
        setState("connecting");
        timer = setTimeout(open, 0);
        return;
      }
      setState("reconnecting");
      timer = setTimeout(open, backoff(failures - 1));
    };
    const start = { sse: openSSE, ws: openWS, poll: openPoll }[transport];
    stopCurrent = start(channel, () => lastEventId, deliver, up, down);
  };

  // Back online: do not sit out the rest of a long backoff.
  const onOnline = () => {
    if (closed || stopCurrent || !timer) return;
    clearTimeout(timer);
    timer = null;
    open();
  };
  window.addEventListener("online", onOnline);

  setState("connecting");
  open();

  return {
    close() {
      closed = true;
      window.removeEventListener("online", onOnline);
      clearTimeout(timer);
      stopCurrent?.();
      setState("closed");
    },
    get transport() {
      return transport;
    },
    get lastEventId() {
      return lastEventId;
    },
  };
}

function parseData(s) {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

// Each transport: open(channel, last, deliver, up, down) → stop().
// last() gives the id to resume after; deliver(ev) passes an event on;
// up() once live; down() once on any end other than stop().

function openSSE(channel, last, deliver, up, down) {
  const id = last();
  const url = `/api/events/${encodeURIComponent(channel)}` + (id ? `?lastEventId=${encodeURIComponent(id)}` : "");
  const es = new EventSource(url);
  let done = false;
  const end = () => {
    if (done) return;
    done = true;
    es.close();
  };
  es.addEventListener("connected", up);
  for (const type of EVENT_TYPES) {
    es.addEventListener(type, (e) => {
      deliver({ id: e.lastEventId, type, data: parseData(e.data) });
    });
  }
  // EventSource would reconnect by itself, but with the URL's old
  // lastEventId and its own timing; we reconnect ourselves instead.
  es.onerror = () => {
    if (done) return;
    end();
    down();
  };
  return end;
}

function openWS(channel, last, deliver, up, down) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  let ws;
  try {
    ws = new WebSocket(`${proto}//${location.host}/api/ws`);
  } catch {
    setTimeout(down, 0);
    return () => {};
  }
  let done = false;
  let joined = false;
  let pongDue = 0; // pings sent without an answer
  let ping = null;
  const end = () => {
    if (done) return false;
    done = true;
    clearInterval(ping);
    try {
      ws.close();
    } catch {
      // already closed
    }
    return true;
  };
  const fail = () => {
    if (end()) down();
  };
  ws.onmessage = (e) => {
    const msg = parseData(e.data);
    if (!msg || typeof msg !== "object") return;
    switch (msg.type) {
      case "welcome": {
        const join = { type: "join", room: channel };
        const id = last();
        if (id) join.lastEventId = id;
        ws.send(JSON.stringify(join));
        break;
      }
      case "joined":
        if ((msg.room ?? msg.data?.room) !== channel) break;
        joined = true;
        up();
        ping = setInterval(() => {
          // Two unanswered pings: the connection is dead without saying so.
          if (pongDue >= 2) return fail();
          pongDue++;
          ws.send(JSON.stringify({ type: "ping" }));
        }, WS_PING_MS);
        break;
      case "pong":
        pongDue = 0;
        break;
      case "error":
        console.warn("birjob: websocket error message:", msg.message);
        if (!joined) fail(); // e.g. a forbidden room
        break;
      default:
        if (msg.room !== undefined && msg.room !== channel) break;
        deliver({ id: msg.id, type: msg.type, data: msg.data, timestamp: msg.timestamp });
    }
  };
  ws.onerror = fail;
  ws.onclose = fail;
  return end;
}

function openPoll(channel, last, deliver, up, down) {
  let done = false;
  let ctrl = null;
  const loop = async () => {
    // The first request of an attempt asks for an answer at once, so the
    // page knows it is live (and, without an id, gets its position).
    let timeout = 1;
    while (!done) {
      ctrl = new AbortController();
      // Abort a request the network silently dropped.
      const guard = setTimeout(() => ctrl.abort(), timeout + 15000);
      const id = last();
      let url = `/api/poll/${encodeURIComponent(channel)}?timeout=${timeout}`;
      timeout = POLL_TIMEOUT_MS;
      if (id) url += `&lastEventId=${encodeURIComponent(id)}`;
      let body;
      try {
        const res = await fetch(url, { signal: ctrl.signal, credentials: "same-origin", cache: "no-store" });
        if (!res.ok) {
          const err = new Error(`poll answered ${res.status}`);
          err.status = res.status;
          throw err;
        }
        body = await res.json();
      } catch (err) {
        clearTimeout(guard);
        if (!done) {
          done = true;
          console.warn("birjob: long poll failed:", err.message);
          down(FATAL_STATUS.includes(err.status) ? { status: err.status } : undefined);
        }
        return;
      }
      clearTimeout(guard);
      if (done) return;
      up();
      for (const ev of body.events || []) deliver(ev);
      // Always continue from the position the server gave, also when no
      // event came (a timeout without lastEventId).
      if (body.lastEventId && newer(body.lastEventId, last())) {
        deliver({ id: body.lastEventId, type: "position" });
      }
    }
  };
  loop();
  return () => {
    done = true;
    ctrl?.abort();
  };
}
