// tabs.js — one live stream per browser, shared by all its tabs.
//
// A browser allows six HTTP/1.1 connections per host; a stream per tab (and
// one per channel) would soon leave none for the page's own requests. So one
// tab, the leader, holds the stream: it holds a Web Lock of a fixed name for
// as long as it lives, and the other tabs queue for the lock. The leader
// passes every event, its positions and its connection state to the other
// tabs over a BroadcastChannel. When it closes, the browser hands the lock
// to the next tab, which resumes the stream from the last positions it
// heard, so nothing is lost; every list applies an event only when its id is
// above the list's own cursor, so nothing shows twice.
//
// Coverage. Each channel of the stream has a "since" id: the stream has
// delivered every event of that channel after it, without a gap, across
// reconnects and leaders. A tab's list, loaded with snapshot cursor C (GET
// /api/jobs, GET /api/alerts: "lastEventId"), is whole when since <= C: it
// holds every event up to C, and it hears (or has buffered, since the tab
// listens before it loads) every broadcast after. A list with C < since (it
// loaded before the stream started, or before the leader added its
// channel, or the stream was reset) is reloaded (onStale).
//
// Accounts are per browser (one cookie): signing in or out in one tab, or a
// session ending under the stream (session-ended, or a 401), is broadcast and
// every tab follows; the leader then reopens the stream with or without the
// private channel "me". A tab that ends the session itself says so first
// (signingOut, with the reason the other tabs show), and a tab that replaces
// it (a password reset ends every session and signs this browser in afresh)
// says so too (replacingSession): the session-ended that follows then
// reopens the stream with the new cookie instead of signing out.
//
// Where Web Locks or BroadcastChannel are missing, every tab is its own
// leader with a stream of its own.

import { subscribe, newer, lowest } from "./live.js";

const LOCK = "birjob-stream";
const BUS = "birjob";

/**
 * Link is this tab's end of the browser's one stream.
 *
 * handlers: {
 *   onEvent(ev)                  an event of the stream (ev.channel says which)
 *   onState({state, transport, channels})  the leader's connection state
 *   onReset()                    the server lost the position: reload every list
 *   onStale(channel)             a list lacks events the stream will not repeat: reload it
 *   onAccount(user, reason)      signed in (user) or out (null, with why) in another tab or by the server
 * }
 */
export class Link {
  constructor(handlers) {
    this.h = handlers;
    this.id = Math.random().toString(36).slice(2);
    this.leader = false;
    this.sub = null;
    this.gen = 0;
    this.posTimer = null;
    this.signOutAt = 0; // when a tab last said it signs out
    this.signOutReason = ""; // what it said
    this.replacing = false; // a tab is replacing the session (password reset)
    this.want = null; // channels this tab wants; null until the account is known
    this.pos = {}; // channel → last position heard (own stream or the leader's)
    this.since = {}; // channel → coverage start of the browser's stream
    this.channels = []; // channels of the browser's stream
    this.cursor = {}; // channel → snapshot cursor of this tab's list ("" when its load failed)
    this.loadingLists = new Set();
    this.state = { state: "connecting", transport: "", channels: [] };
    const shared = "locks" in navigator && typeof BroadcastChannel === "function";
    this.bus = shared ? new BroadcastChannel(BUS) : null;
    if (this.bus) {
      this.bus.onmessage = (e) => this.onMessage(e.data);
      this.post({ t: "hello" });
      addEventListener("pagehide", () => {
        if (this.leader) this.post({ t: "bye" });
      });
    }
  }

  /** start competes for the stream (call once, after the handlers can run). */
  start() {
    if (!this.bus) return this.becomeLeader();
    navigator.locks.request(LOCK, () => {
      this.becomeLeader();
      return new Promise(() => {}); // held while the tab lives
    });
  }

  /** setChannels says which channels this tab needs (its account is known). */
  setChannels(channels) {
    this.want = channels;
    if (this.leader) this.sync();
  }

  /** loading says a list of channel is being (re)loaded. */
  loading(channel) {
    this.loadingLists.add(channel);
  }

  /** loaded gives the snapshot cursor of a list of channel ("" when the load failed). */
  loaded(channel, cursor) {
    this.loadingLists.delete(channel);
    this.cursor[channel] = cursor || "";
    if (this.leader) this.sync();
    this.checkCoverage();
  }

  /** forget drops a list (signed out). */
  forget(channel) {
    delete this.cursor[channel];
    this.loadingLists.delete(channel);
  }

  /**
   * signingOut says that a tab of this browser asks the server to end the
   * session now, so the session-ended that follows is no surprise.
   */
  signingOut(reason = "You signed out in another tab.") {
    this.signOutAt = Date.now();
    this.signOutReason = reason;
    this.post({ t: "signing-out", reason });
  }

  /**
   * replacingSession says that a tab of this browser is about to replace the
   * session (a password reset ends every session of the account, this
   * browser's too, and answers with a fresh cookie): the session-ended of
   * the old one only pauses the stream. sessionReplaced says it is done
   * (the new cookie is set, or the reset failed); the stream reopens.
   */
  replacingSession() {
    this.replacing = true;
    this.post({ t: "replacing" });
  }

  sessionReplaced() {
    this.replacing = false;
    this.post({ t: "replaced" });
    this.resume();
  }

  /**
   * resume (leader) reopens the stream with the new cookie: the old one's
   * session-ended may come after the reset's answer, and is then dropped
   * with the old stream's callbacks.
   */
  resume() {
    if (!this.leader) return;
    this.stop();
    this.sync();
  }

  /** account tells the other tabs that this one signed in (user) or out (null). */
  account(user, reason) {
    this.post({ t: "account", user, reason });
  }

  post(msg) {
    try {
      this.bus?.postMessage({ ...msg, from: this.id });
    } catch (err) {
      console.warn("birjob: broadcast failed", err);
    }
  }

  // ---- followers ----

  onMessage(msg) {
    if (!msg || typeof msg !== "object" || msg.from === this.id) return;
    switch (msg.t) {
      case "hello":
        if (this.leader) this.postState();
        break;
      case "event":
        if (this.leader) break; // a tab that lost the lock to us, going away
        this.heard(msg.pos);
        if (this.wants(msg.ev?.channel)) this.h.onEvent(msg.ev);
        break;
      case "pos":
        if (!this.leader) this.heard(msg.pos);
        break;
      case "state":
        if (this.leader) break;
        this.heard(msg.pos);
        this.since = msg.since || {};
        this.channels = msg.channels || [];
        this.showState(msg);
        this.checkCoverage();
        break;
      case "reset":
        if (this.leader) break;
        this.heard(msg.pos);
        this.h.onReset();
        break;
      case "bye":
        if (!this.leader) this.showState({ state: "connecting", transport: this.state.transport, channels: this.channels });
        break;
      case "account":
        this.h.onAccount(msg.user || null, msg.reason || "");
        break;
      case "signing-out":
        this.signOutAt = Date.now();
        this.signOutReason = msg.reason || "You signed out in another tab.";
        break;
      case "replacing":
        this.replacing = true;
        break;
      case "replaced":
        this.replacing = false;
        this.resume();
        break;
    }
  }

  // wants: "jobs" is public; another channel only once this tab asked for it.
  wants(channel) {
    return channel === "jobs" || (!!channel && !!this.want?.includes(channel));
  }

  heard(pos) {
    for (const [ch, id] of Object.entries(pos || {})) if (newer(id, this.pos[ch])) this.pos[ch] = id;
  }

  showState(st) {
    this.state = { state: st.state, transport: st.transport, channels: st.channels || [] };
    this.h.onState(this.state);
  }

  /** checkCoverage asks for a reload of every list the stream does not cover since its snapshot. */
  checkCoverage() {
    for (const [ch, cursor] of Object.entries(this.cursor)) {
      if (this.loadingLists.has(ch) || !cursor || !this.channels.includes(ch)) continue;
      if (newer(this.since[ch], cursor)) {
        this.loading(ch);
        this.h.onStale(ch);
      }
    }
  }

  // ---- the leader ----

  becomeLeader() {
    this.leader = true;
    this.sync();
  }

  /**
   * sync (leader) opens or reopens the stream when the channels it should
   * carry changed, once each has a start position: where the stream left
   * it (its own, or the last leader's, as heard), else this tab's list
   * cursor. A channel that continues keeps its coverage.
   */
  sync() {
    if (!this.want) return;
    const want = [...this.want].sort();
    if (this.sub && want.join() === [...this.channels].sort().join()) return;
    const from = {};
    const since = {};
    for (const ch of want) {
      const continues = this.channels.includes(ch) && this.pos[ch] && this.since[ch];
      if (continues) {
        from[ch] = this.pos[ch];
        since[ch] = this.since[ch];
        continue;
      }
      if (!(ch in this.cursor) || this.loadingLists.has(ch)) return; // wait for the list
      from[ch] = this.cursor[ch];
      since[ch] = this.cursor[ch];
    }
    this.stop();
    this.channels = want;
    this.since = since;
    this.pos = { ...from };
    // Callbacks of a stream that was replaced (or stopped) are ignored.
    const gen = this.gen;
    const current = (fn) => (arg) => {
      if (gen === this.gen) fn(arg);
    };
    const handlers = {
      onEvent: (ev) => {
        if (!this.wants(ev.channel)) return; // a private event after sign-out
        this.post({ t: "event", ev, pos: this.pos });
        this.h.onEvent(ev);
      },
      onPosition: (pos) => {
        this.pos = pos;
        if (!this.posTimer) {
          // Positions without events (long-poll answers) reach the other
          // tabs, batched, so a new leader resumes from close by.
          this.posTimer = setTimeout(() => {
            this.posTimer = null;
            this.post({ t: "pos", pos: this.pos });
          }, 1000);
        }
      },
      onReset: ({ positions }) => {
        // Every list reloads; the stream covers everything from here.
        this.pos = positions;
        const to = lowest(Object.values(positions));
        for (const ch of this.channels) this.since[ch] = positions[ch] || to;
        for (const ch of Object.keys(this.cursor)) this.loading(ch);
        this.post({ t: "reset", pos: this.pos });
        this.h.onReset();
        this.postState();
      },
      onState: ({ state, transport }) => {
        this.state = { state, transport, channels: this.channels };
        this.postState();
        this.h.onState(this.state);
      },
      onSessionEnded: () => this.sessionEnded(),
      onFatal: ({ status }) => {
        if (status === 401 && this.channels.includes("me")) this.sessionEnded();
      },
    };
    for (const k of Object.keys(handlers)) handlers[k] = current(handlers[k]);
    this.sub = subscribe(want, handlers, { from });
    this.checkCoverage();
  }

  /** stop closes this tab's stream, if any; its callbacks are ignored from now on. */
  stop() {
    this.gen++;
    this.sub?.close();
    this.sub = null;
  }

  postState() {
    this.post({ t: "state", state: this.state.state, transport: this.state.transport, channels: this.channels, since: this.since, pos: this.pos });
  }

  /** sessionEnded (leader): the stream's session is gone; every tab signs out. */
  sessionEnded() {
    this.stop();
    if (this.replacing) return; // resumed by sessionReplaced, with the new cookie
    const asked = Date.now() - this.signOutAt < 10000; // a tab signed out
    const why = asked ? this.signOutReason : "Your session has ended; sign in again to get your alerts.";
    this.post({ t: "account", user: null, reason: why });
    this.h.onAccount(null, why);
  }
}
