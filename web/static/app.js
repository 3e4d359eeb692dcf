// app.js — the page's entry point: tabs, accounts, the connection pill and
// the two live subscriptions ("jobs" for everyone, "me" when signed in).

import { h, clear, show, api, errorText, status, str, $ } from "./dom.js";
import { subscribe, TRANSPORT_NAMES } from "./live.js";
import { JobList } from "./jobs.js";
import { Alerts, askNotifications } from "./alerts.js";
import { Admin } from "./admin.js";
import { toast } from "./toast.js";

const jobs = new JobList();
const alerts = new Alerts();
const admin = new Admin();
let me = null; // {id, email, admin} when signed in
let meSub = null;

// ---- connection pill ----

const STATE_TEXT = { connecting: "connecting…", live: "● live", reconnecting: "reconnecting…", closed: "offline" };

/** showConn renders the state of the "jobs" subscription in #conn. */
function showConn({ state, transport }) {
  const pill = $("conn");
  pill.dataset.state = state;
  pill.dataset.transport = transport || "";
  pill.textContent = `${STATE_TEXT[state] || state} · ${TRANSPORT_NAMES[transport] || transport}`;
  pill.title = state === "live" ? `Receiving events over ${TRANSPORT_NAMES[transport]}` : "Not receiving events right now; retrying";
}

// ---- tabs ----

const TABS = ["jobs", "alerts", "admin"];
let currentTab = "";

function allowed(tab) {
  if (tab === "alerts") return !!me;
  if (tab === "admin") return !!me?.admin;
  return tab === "jobs";
}

/** route shows the tab named by the URL's #fragment. */
function route() {
  let tab = location.hash.replace(/^#/, "") || "jobs";
  if (!TABS.includes(tab) || !allowed(tab)) tab = "jobs";
  for (const t of TABS) {
    show($(`tab-${t}`), t === tab);
    const a = document.querySelector(`#nav a[data-tab="${t}"]`);
    show(a, allowed(t));
    if (t === tab) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  admin.active(tab === "admin");
  // Entering the admin tab shows fresh sources, feeds and stats.
  if (tab === "admin" && currentTab !== "admin") admin.load();
  currentTab = tab;
}

// ---- accounts ----

function renderAccount() {
  const box = clear($("account"));
  if (!me) {
    box.append(h("button", { type: "button", id: "signin-open", class: "primary", text: "Sign in", onclick: () => openAuth() }));
  } else {
    const notif = h("button", { type: "button", id: "notify-btn", text: notifLabel() });
    notif.addEventListener("click", async () => {
      await askNotifications();
      notif.textContent = notifLabel();
    });
    // (Element.append would show a null as the text "null".)
    box.append(
      ...[
        h("span", { id: "who", class: "who", text: str(me.email) }),
        me.admin ? h("span", { class: "badge", text: "admin" }) : null,
        "Notification" in window ? notif : null,
        h("button", { type: "button", id: "signout", text: "Sign out", onclick: signOut }),
      ].filter(Boolean),
    );
  }
  route();
}

function notifLabel() {
  if (!("Notification" in window)) return "";
  return { granted: "Notifications on", denied: "Notifications blocked" }[Notification.permission] || "Enable notifications";
}

function openAuth() {
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

function signedIn(user) {
  if (!user || typeof user !== "object") return;
  me = { id: user.id, email: str(user.email), admin: user.admin === true };
  renderAccount();
  alerts.load();
  meSub?.close();
  meSub = subscribe(
    "me",
    {
      onEvent: (ev) => alerts.onEvent(ev),
      onReset: () => alerts.load(),
      // The session ended elsewhere (sign-out in another tab, expiry).
      onFatal: ({ status: st }) => {
        if (st === 401) signedOutHere("Your session has ended; sign in again to get your alerts.");
      },
      onState: ({ state, transport }) => {
        $("conn").dataset.meState = state;
        $("conn").dataset.meTransport = transport;
      },
    },
    // Per user, so another account in this tab does not resume from it.
    { storageKey: `birjob:last:me:${str(user.id)}` },
  );
}

async function signOut() {
  try {
    await api("POST", "/api/logout");
  } catch (err) {
    toast(`Sign out failed: ${errorText(err)}`, { kind: "error" });
    return;
  }
  signedOutHere("");
}

/** signedOutHere forgets the user in this page. */
function signedOutHere(message) {
  meSub?.close();
  meSub = null;
  delete $("conn").dataset.meState;
  delete $("conn").dataset.meTransport;
  me = null;
  alerts.reset();
  admin.active(false);
  renderAccount();
  if (message) toast(message, { kind: "error" });
}

// ---- start ----

$("auth-form").addEventListener("submit", (e) => {
  e.preventDefault();
  submitAuth(e.submitter?.value === "signup" ? "signup" : "login");
});
$("auth-close").addEventListener("click", () => show($("auth-panel"), false));
window.addEventListener("hashchange", route);

// Subscribe before the first load: an event that races the load is then
// caught by the subscription, and the list drops the duplicate.
subscribe("jobs", {
  onEvent: (ev) => jobs.onEvent(ev),
  onReset: () => jobs.load(),
  onState: showConn,
});
jobs.load();

api("GET", "/api/me").then(
  (user) => signedIn(user),
  (err) => {
    if (err.status !== 401) console.warn("birjob: /api/me:", err.message);
    renderAccount();
  },
);
