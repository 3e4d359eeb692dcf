// app.js — the page's entry point: tabs, accounts, the connection pill and
// the live stream ("jobs" for everyone, plus "me" when signed in), which
// one tab of the browser holds for all of them (tabs.js).

import { h, clear, show, api, errorText, status, str, $ } from "./dom.js";
import { TRANSPORT_NAMES } from "./live.js";
import { Link } from "./tabs.js";
import { JobList } from "./jobs.js";
import { Alerts, notificationButton } from "./alerts.js";
import { Admin } from "./admin.js";
import { toast, clearToasts, unread } from "./toast.js";
import { PushSettings, registerWorker } from "./push.js";
import { Account, handleLinks, forgotPassword, welcome, visited } from "./account.js";
import { initMenu } from "./menu.js";

let me = null; // {id, email, admin, emailVerified?} when signed in
let lastUser = ""; // the id of the last user signed in on this page
let newAlertAfterSignIn = false; // the welcome's "Create an alert" was pressed
let signingOut = false; // this tab asked for the sign-out: no "session ended" toast

const link = new Link({
  onEvent: (ev) => {
    if (ev.channel === "me") {
      if (me) alerts.onEvent(ev);
    } else if (ev.channel === "jobs") jobs.onEvent(ev);
  },
  onState: () => showConn(),
  onReset: () => {
    jobs.load();
    if (me) alerts.load();
  },
  onStale: (channel) => {
    if (channel === "jobs") jobs.load();
    else if (channel === "me" && me) alerts.load();
    else link.forget(channel);
  },
  onAccount: (user, reason) => (user ? signedIn(user, { echo: false }) : signedOutHere(reason, { echo: false })),
});
const jobs = new JobList({
  loading: () => link.loading("jobs"),
  loaded: (c) => link.loaded("jobs", c),
  alertCreated: () => me && alerts.load(),
});
const alerts = new Alerts({ loading: () => link.loading("me"), loaded: (c) => link.loaded("me", c), pushHere: () => push.pushHere(), leader: () => link.leader });
const admin = new Admin();
const push = new PushSettings();
const account = new Account({
  signedIn: (user) => signedIn(user),
  signingOut: (message) => link.signingOut(message),
  signedOut: (message) => signedOutHere(message),
  confirmed: () => {
    if (!me) return;
    me.emailVerified = true;
    link.account(me); // the other tabs show it too
  },
  push,
});
const closeForgot = forgotPassword();

// ---- connection pill ----

const STATE_TEXT = { connecting: "connecting…", live: "● live", reconnecting: "reconnecting…", closed: "offline" };

/**
 * showConn renders the browser's stream (held by this tab or another) in
 * #conn: its state and transport, and whether the personal channel is on it.
 */
function showConn() {
  const { state, transport, channels } = link.state;
  const pill = $("conn");
  const name = TRANSPORT_NAMES[transport] || transport || "";
  const meOn = !!me && channels.includes("me");
  pill.dataset.state = state;
  pill.dataset.transport = transport || "";
  pill.dataset.holder = link.leader ? "here" : "other"; // which tab holds the stream
  if (meOn) {
    pill.dataset.meState = state;
    pill.dataset.meTransport = transport;
  } else {
    delete pill.dataset.meState;
    delete pill.dataset.meTransport;
  }
  let text = [STATE_TEXT[state] || state, name].filter(Boolean).join(" · ");
  if (me) text += meOn && state === "live" ? " · alerts on" : " · alerts off";
  pill.textContent = text;
  pill.title = state === "live" ? `Receiving events over ${name}` : "Not receiving events right now; retrying";
}

// ---- tabs ----

const TABS = ["jobs", "alerts", "account", "admin"];
let currentTab = "";

function allowed(tab) {
  if (tab === "alerts" || tab === "account") return !!me;
  if (tab === "admin") return !!me?.admin;
  return tab === "jobs";
}

/** route shows the tab named by the URL's #fragment ("#admin/stats": a part of a tab). */
function route() {
  let [tab, part] = location.hash.replace(/^#/, "").split("/");
  tab ||= "jobs";
  if (!TABS.includes(tab) || !allowed(tab)) tab = "jobs";
  for (const t of TABS) {
    show($(`tab-${t}`), t === tab);
    const a = document.querySelector(`#nav a[data-tab="${t}"]`);
    show(a, allowed(t));
    if (t === tab) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  admin.active(tab === "admin", part);
  // Entering the admin tab shows fresh sources, feeds and stats.
  if (tab === "admin" && currentTab !== "admin") admin.load();
  if (tab === "account" && currentTab !== "account") account.load(me);
  currentTab = tab;
}

// ---- accounts ----

function renderAccount() {
  const box = clear($("account"));
  if (!me) {
    box.append(h("button", { type: "button", id: "signin-open", class: "primary", text: "Sign in", onclick: () => openAuth() }));
  } else {
    const who = h("a", { id: "who", class: "who", title: "Your account", text: str(me.email) });
    who.href = "#account";
    // (Element.append would show a null as the text "null".)
    box.append(
      ...[
        who,
        me.admin ? h("span", { class: "badge", text: "admin" }) : null,
        notificationButton(),
        h("button", { type: "button", id: "signout", text: "Sign out", onclick: signOut }),
      ].filter(Boolean),
    );
  }
  route();
}

function openAuth() {
  closeForgot();
  show($("auth-panel"), true);
  status($("auth-error"), "");
  $("auth-email").focus();
}

async function submitAuth(kind) {
  const email = $("auth-email").value.trim();
  const password = $("auth-password").value;
  try {
    const user = await api("POST", kind === "signup" ? "/api/signup" : "/api/login", { email, password });
    $("auth-password").value = "";
    show($("auth-panel"), false);
    signedIn(user);
    toast(kind === "signup" ? `Welcome, ${str(user?.email)}.` : `Signed in as ${str(user?.email)}.`);
  } catch (err) {
    status($("auth-error"), errorText(err));
  }
}

/**
 * signedIn shows user as signed in; echo tells the other tabs (not when the
 * news came from one of them).
 */
function signedIn(user, { echo = true } = {}) {
  if (!user || typeof user !== "object") return;
  const same = !!me && str(me.id) === str(user.id);
  if (me && !same) signedOutHere("", { echo: false });
  // Another user than the page's last: nothing of the previous one stays on screen.
  if (lastUser && lastUser !== str(user.id)) {
    clearToasts();
    unread.clear();
  }
  lastUser = str(user.id);
  me = { id: user.id, email: str(user.email), admin: user.admin === true };
  if ("emailVerified" in user) me.emailVerified = user.emailVerified === true;
  jobs.setUser(me);
  visited();
  renderAccount();
  if (echo) link.account(user);
  if (!same) {
    // (load tells the link it loads "me" before it is asked for.)
    alerts.load().then(() => {
      if (!newAlertAfterSignIn) return;
      newAlertAfterSignIn = false;
      location.hash = "#alerts";
      alerts.edit(null);
    });
    push.load();
  }
  if (currentTab === "account") account.load(me);
  link.setChannels(["jobs", "me"]);
  showConn();
}

async function signOut() {
  signingOut = true;
  link.signingOut();
  try {
    await api("POST", "/api/logout");
  } catch (err) {
    toast(`Sign out failed: ${errorText(err)}`, { kind: "error" });
    return;
  } finally {
    signingOut = false;
  }
  signedOutHere("", { echo: true });
}

/**
 * signedOutHere forgets the user in this tab and stops its private events;
 * echo tells the other tabs.
 */
function signedOutHere(message, { echo = true } = {}) {
  if (!me) return;
  me = null;
  jobs.setUser(null);
  link.setChannels(["jobs"]);
  link.forget("me");
  clearToasts(); // the next user must not read them
  unread.clear();
  alerts.reset();
  push.reset();
  account.reset();
  admin.active(false);
  renderAccount();
  showConn();
  if (echo) link.account(null, message || "You signed out in another tab.");
  if (message && !signingOut) toast(message, { kind: "error" });
}

// ---- start ----

$("auth-form").addEventListener("submit", (e) => {
  e.preventDefault();
  submitAuth(e.submitter?.value === "signup" ? "signup" : "login");
});
$("auth-close").addEventListener("click", () => show($("auth-panel"), false));
initMenu();
window.addEventListener("hashchange", route);
// A push for several matches opens "/?alert=<id>": that alert's card.
if (new URLSearchParams(location.search).has("alert") && !location.hash) history.replaceState(null, "", "#alerts");

// The lists load first; the stream then resumes from their cursors (the
// tab that holds it) or the tab follows the one that does, listening before
// its lists load so that nothing falls between.
jobs.load();
// Who is signed in. A 503 (the database is away, so the session cannot be
// checked) is not "signed out": the page asks again after the server's
// Retry-After, and until then shows the public list only.
function whoAmI() {
  return api("GET", "/api/me").then(
    (user) => signedIn(user, { echo: false }),
    (err) => {
      if (err.status !== 401) console.warn("birjob: /api/me:", err.message);
      if (err.status === 401) jobs.setUser(null);
      renderAccount();
      // A first visit: say what birjob does.
      if (err.status === 401 && !me)
        welcome(() => {
          newAlertAfterSignIn = true;
          openAuth();
        });
      link.setChannels(["jobs"]);
      if (err.status === 503) setTimeout(whoAmI, Math.min(Math.max(err.retryAfter, 1), 60) * 1000);
    },
  );
}
// The links of account mails (?verify=, ?reset=), once the account is
// known: what they change is read afresh after it.
whoAmI().then(() =>
  handleLinks({
    signedIn: (user) => signedIn(user),
    refresh: () => api("GET", "/api/me").then((user) => signedIn(user), () => {}),
    replacingSession: () => link.replacingSession(),
    sessionReplaced: () => link.sessionReplaced(),
  }),
);
link.start();
// The service worker shows the pushes of the courier (sw.js); registering
// it on every load also lets the browser check it for updates.
registerWorker();
