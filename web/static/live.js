// live.js — a reusable client for birjob's event streams.
//
// subscribe(channels, handlers, options) keeps one stream of several
// channels flowing over the best transport that works:
//
//   1. Server-Sent Events  GET /api/events?channels=jobs,me&lastEventId=<id>
//   2. WebSocket           GET /api/ws, then one {"type":"join"} per channel
//   3. long polling        GET /api/poll?channels=jobs,me&timeout=…&lastEventId=<id>
//
// (A single channel uses /api/events/<channel> and /api/poll/<channel>.)
//
// A transport that never came up on this page is given up at once for the
// next one. "Came up" means its opening message arrived: "connected" (SSE),
// "welcome" and a "joined" per channel (WebSocket), a first answer (poll).
// One that opens but says nothing for STALL_MS (a proxy that buffers the
// response) has failed just the same. One that worked before and now fails
// to connect is retried with exponential backoff and jitter: the server is
// probably restarting. One that keeps dropping right after it comes up (a
// proxy that breaks streams) is given up after a few tries.
//
// Positions. Event ids are global and in commit order. The client keeps a
// position per channel: the id up to which that channel has been delivered.
// SSE and long polling deliver every channel of the stream merged in id
// order, so an event there moves every channel's position; a WebSocket
// replays each room on its own, so an event there moves its room's only.
// Events at or below their channel's position are dropped, so a transport
// switch or a replay never delivers an event twice. SSE and long polling
// resume from the lowest position, WebSocket joins each room from its own.
//
// "?transport=sse|ws|poll" in the page URL (or options.transport) pins the
// transport: no fallback then.

/** Transports in fallback order. */
export const TRANSPORTS = ["sse", "ws", "poll"];

/** Human names of the transports, for the connection pill. */
export const TRANSPORT_NAMES = { sse: "SSE", ws: "WebSocket", poll: "long-poll" };

/** Named SSE events a client listens to. */
const EVENT_TYPES = ["new-job", "job-expired", "reset", "session-ended", "message"];

/** STALL_MS: a transport that has not come up this long after it opened has failed. */
export const STALL_MS = 5000;

const POLL_TIMEOUT_MS = 25000;
const WS_PING_MS = 20000;
// Failures in a row after which a transport that used to work is given up.
const MAX_FAILURES = 4;
// A connection that drops sooner than this after coming up counts as failed.
const FLAP_MS = 10000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30000;
// Answers that end a subscription instead of a retry.
const FATAL_STATUS = [401, 403, 404];
// The WebSocket close code of an ended session.
const WS_SESSION_ENDED = 4401;

// The transport that last worked, shared by all subscriptions of the page,
// so a later stream starts where the earlier one ended up.
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

/** newer reports whether event id a is above id b (decimal 64-bit strings; "" is below all). */
export function newer(a, b) {
  if (!b) return !!a;
  if (!a) return false;
  try {
    return BigInt(a) > BigInt(b);
  } catch {
    return true; // not a number: let it through rather than lose it
  }
}

/** lowest returns the smallest of the ids given ("" when there is none). */
export function lowest(ids) {
  let low = "";
  for (const id of ids) if (id && (!low || newer(low, id))) low = id;
  return low;
}

/**
 * subscribe opens one stream of channels.
 *
 * handlers: {
 *   onEvent({id, type, channel, data, timestamp})  new-job / job-expired, in order per channel
 *   onPosition(positions)          the positions moved ({channel: id}); after every event too
 *   onReset({positions})           the server lost our position: reload state
 *   onState({state, transport})    state: "connecting" | "live" | "reconnecting" | "closed"
 *   onSessionEnded({reason})       the session the stream was opened with ended; closed
 *   onFatal({status})              the server refused the stream (401, 403, 404); closed
 * }
 * options: {
 *   transport  "sse" | "ws" | "poll" to pin one (default: ?transport= or automatic)
 *   from       {channel: id} start positions (a channel without one starts "now")
 *   stallMs    how long an opening may take (default STALL_MS;
 *              globalThis.birjobStallMs, in ms, overrides the default,
 *              for tests on a loaded machine)
 * }
 *
 * Returns {close(), get transport(), get positions()}.
 */
export function subscribe(channels, handlers = {}, options = {}) {
  channels = [...new Set(channels)];
  const pinned = options.transport || forcedTransport();
  const stallMs = options.stallMs ?? (Number(globalThis.birjobStallMs) > 0 ? Number(globalThis.birjobStallMs) : STALL_MS);
  const pos = {};
  for (const ch of channels) pos[ch] = String(options.from?.[ch] ?? "");
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

  // end closes the subscription for good and tells why.
  const end = (why, arg) => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    stopCurrent?.();
    stopCurrent = null;
    setState("closed");
    handlers[why]?.(arg);
  };

  // deliver handles one event of any transport. ordered: the transport
  // merges all channels in id order (SSE, poll), so an id moves every
  // channel's position.
  const deliver = (ev, ordered) => {
    if (closed || !ev || typeof ev.type !== "string") return;
    if (ev.type === "session-ended") {
      end("onSessionEnded", { reason: ev.data?.reason || "your session ended" });
      return;
    }
    const ch = channels.includes(ev.channel) ? ev.channel : channels.length === 1 ? channels[0] : "";
    if (ev.type === "reset") {
      // Our position is gone (too old, or beyond the end of the log): the
      // server says where to continue; the page reloads its state.
      const to = String(ev.data?.lastEventId ?? ev.id ?? "");
      for (const c of ordered || !ch ? channels : [ch]) pos[c] = to;
      handlers.onPosition?.({ ...pos });
      handlers.onReset?.({ positions: { ...pos } });
      return;
    }
    if (ev.id) {
      const id = String(ev.id);
      if (ch && !newer(id, pos[ch])) return; // already seen
      for (const c of ordered ? channels : [ch]) if (c && newer(id, pos[c])) pos[c] = id;
      handlers.onPosition?.({ ...pos });
    }
    if (ev.type === "position") return;
    try {
      handlers.onEvent?.({ ...ev, channel: ch || ev.channel });
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
    // A transport that opened but does not come up (a buffering proxy
    // holds the response back) has failed.
    const stall = setTimeout(() => {
      if (upAt || ended) return;
      console.warn(`birjob: ${transport} did not come up within ${stallMs} ms`);
      stopCurrent?.();
      down();
    }, stallMs);
    const up = () => {
      if (ended || closed || upAt) return;
      clearTimeout(stall);
      upAt = Date.now();
      everUp[transport] = true;
      if (!pinned) preferred = transport;
      setState("live");
    };
    const down = (fatal) => {
      if (ended) return;
      ended = true;
      clearTimeout(stall);
      stopCurrent = null;
      if (closed) return;
      if (fatal?.sessionEnded) return end("onSessionEnded", { reason: fatal.reason || "your session ended" });
      // The server refused the stream itself (401 signed out, 403, 404
      // unknown feed): retrying cannot help.
      if (fatal) return end("onFatal", fatal);
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
    stopCurrent = start(channels, () => ({ ...pos }), deliver, up, down);
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
      window.removeEventListener("online", onOnline);
      end("", undefined);
    },
    get transport() {
      return transport;
    },
    get positions() {
      return { ...pos };
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

/** streamURL is the SSE or poll URL of channels with params. */
function streamURL(base, channels, params) {
  const q = new URLSearchParams(params);
  let path = base;
  if (channels.length === 1) path += "/" + encodeURIComponent(channels[0]);
  else q.set("channels", channels.join(","));
  const qs = q.toString();
  return qs ? `${path}?${qs}` : path;
}

// Each transport: open(channels, positions, deliver, up, down) → stop().
// positions() gives the ids to resume after; deliver(ev, ordered) passes an
// event on; up() once live; down(fatal) once on any end other than stop().

function openSSE(channels, positions, deliver, up, down) {
  const id = lowest(Object.values(positions()));
  const url = streamURL("/api/events", channels, id ? { lastEventId: id } : {});
  const es = new EventSource(url);
  let done = false;
  let wasUp = false;
  const end = () => {
    if (done) return;
    done = true;
    es.close();
  };
  es.addEventListener("connected", () => {
    wasUp = true;
    up();
  });
  for (const type of EVENT_TYPES) {
    es.addEventListener(type, (e) => {
      const data = parseData(e.data);
      deliver({ id: e.lastEventId, type, channel: data?.channel, data }, true);
    });
  }
  // EventSource would reconnect by itself, but with the URL's old
  // lastEventId and its own timing; we reconnect ourselves instead. It
  // cannot tell a 401 from a network error, so a stream that never came
  // up asks the same URL once more with fetch to learn the status.
  es.onerror = () => {
    if (done) return;
    end();
    if (wasUp) return down();
    probe(url).then(down);
  };
  return end;
}

// probe asks url once and returns {status} when the answer is one that
// ends a subscription, else undefined; it gives up after a few seconds.
async function probe(url) {
  const ctrl = new AbortController();
  const guard = setTimeout(() => ctrl.abort(), 3000);
  try {
    const res = await fetch(url, { signal: ctrl.signal, credentials: "same-origin", cache: "no-store" });
    return FATAL_STATUS.includes(res.status) ? { status: res.status } : undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(guard);
    ctrl.abort(); // a stream that answered 200 would go on
  }
}

function openWS(channels, positions, deliver, up, down) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  let ws;
  try {
    ws = new WebSocket(`${proto}//${location.host}/api/ws`);
  } catch {
    setTimeout(down, 0);
    return () => {};
  }
  let done = false;
  const joined = new Set();
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
  const fail = (fatal) => {
    if (end()) down(fatal);
  };
  ws.onmessage = (e) => {
    const msg = parseData(e.data);
    if (!msg || typeof msg !== "object") return;
    const room = msg.room ?? msg.data?.room;
    switch (msg.type) {
      case "welcome": {
        const pos = positions();
        for (const ch of channels) {
          const join = { type: "join", room: ch };
          if (pos[ch]) join.lastEventId = pos[ch];
          ws.send(JSON.stringify(join));
        }
        break;
      }
      case "joined":
        if (!channels.includes(room) || joined.has(room)) break;
        joined.add(room);
        if (joined.size < channels.length) break;
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
      case "session-ended":
        fail({ sessionEnded: true, reason: msg.reason || msg.data?.reason });
        break;
      case "error":
        console.warn("birjob: websocket error message:", msg.message);
        // A join refused (a private room without a session, an unknown
        // feed): the stream cannot be whole; a 401 of a probe says why.
        if (joined.size < channels.length) {
          end();
          probe(streamURL("/api/poll", channels, { timeout: "1" })).then(down);
        }
        break;
      default:
        if (room !== undefined && !channels.includes(room)) break;
        // (A reset names its position in lastEventId.)
        deliver({ id: msg.id ?? (msg.type === "reset" ? msg.lastEventId : undefined), type: msg.type, channel: room, data: msg.data, timestamp: msg.timestamp }, false);
    }
  };
  ws.onerror = () => fail();
  ws.onclose = (e) => fail(e.code === WS_SESSION_ENDED ? { sessionEnded: true } : undefined);
  return end;
}

function openPoll(channels, positions, deliver, up, down) {
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
      const id = lowest(Object.values(positions()));
      const url = streamURL("/api/poll", channels, id ? { timeout: String(timeout), lastEventId: id } : { timeout: String(timeout) });
      timeout = POLL_TIMEOUT_MS;
      let body;
      try {
        const res = await fetch(url, { signal: ctrl.signal, credentials: "same-origin", cache: "no-store" });
        if (!res.ok) {
          const err = new Error(`poll answered ${res.status}`);
          err.status = res.status;
          err.body = await res.json().catch(() => null);
          throw err;
        }
        body = await res.json();
      } catch (err) {
        clearTimeout(guard);
        if (!done) {
          done = true;
          console.warn("birjob: long poll failed:", err.message);
          if (err.body?.sessionEnded) down({ sessionEnded: true, reason: err.body.error });
          else down(FATAL_STATUS.includes(err.status) ? { status: err.status } : undefined);
        }
        return;
      }
      clearTimeout(guard);
      if (done) return;
      up();
      for (const ev of body.events || []) {
        deliver({ ...ev, channel: ev.channel ?? ev.data?.channel }, true);
      }
      // Always continue from the position the server gave, also when no
      // event came (a timeout without lastEventId).
      if (body.lastEventId && newer(String(body.lastEventId), lowest(Object.values(positions())))) {
        deliver({ id: String(body.lastEventId), type: "position" }, true);
      }
    }
  };
  loop();
  return () => {
    done = true;
    ctrl?.abort();
  };
}
