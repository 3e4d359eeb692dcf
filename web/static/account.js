// account.js — the account page (#account), the links of account mails
// (?verify=TOKEN, ?reset=TOKEN), "forgot password" in the sign-in panel,
// and the first visit's welcome.
//
// The account page is built against the account API of issue 14 (see the
// README): GET /api/me (emailVerified), POST /api/me/verification,
// PUT /api/me/password, GET/DELETE /api/me/sessions[/{id}],
// GET/POST/DELETE /api/tokens[/{id}], DELETE /api/me, and the courier's
// GET /api/push/subscriptions and GET/PUT /api/me/notifications. It
// degrades section by section: a section whose list answers 404 is hidden
// (data-unavailable), and the sections that only write (password, delete,
// resend) show only when the account object says the account API is there
// ("emailVerified" in it) and hide when a write answers 404.
//
// Stable for tests: #tab-account > section.acct[id] (acct-email,
// acct-password, acct-sessions, acct-tokens, acct-push, acct-mail,
// acct-delete), each hidden while unavailable; #acct-token-secret shows a
// new token's secret once.

import { h, clear, show, api, errorText, status, str, field, dateTime, $ } from "./dom.js";
import { toast } from "./toast.js";
import { zones, browserZone } from "./push.js";

/** VISITED is the localStorage key set once the welcome was answered or the user signed in. */
export const VISITED = "birjob-visited";

function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // storage refused: the welcome shows again next time
  }
}

function recall(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** section is one card of the account page. */
function section(id, title, ...children) {
  return h("section", { class: "card acct", id, "aria-labelledby": `${id}-title` }, h("h3", { id: `${id}-title`, text: title }), ...children);
}

/** unavailable hides a section whose endpoint the server does not have. */
function unavailable(el) {
  el.dataset.unavailable = "true";
  show(el, false);
}

/** pwField is a labelled password input. */
function pwField(label, name, autocomplete, id) {
  const input = h("input", { type: "password", name, id, autocomplete, required: true, minlength: name === "current" ? null : "8" });
  return [field(label, input), input];
}

/**
 * Account is the account tab. hooks: signedIn(user) (a fresh account
 * object), signedOut(message) (the session is gone: deleted account,
 * revoked current session), push (the PushSettings, whose browser list it
 * mirrors).
 */
export class Account {
  constructor(hooks) {
    this.hooks = hooks;
    this.box = $("tab-account");
    this.loads = 0;
  }

  /** reset empties the page (sign-out, another user). */
  reset() {
    this.loads++;
    clear(this.box);
  }

  /** load builds the page for the signed-in user me. */
  async load(me) {
    const n = ++this.loads;
    const full = me && "emailVerified" in me; // the account API of issue 14 is there
    const push = section("acct-push", "Browsers receiving push", h("ul", { class: "push-list", id: "acct-push-list", "aria-labelledby": "acct-push-title" }), h("p", { class: "muted" }, "Turn push on or off for this browser with “Push on this browser” in ", this.tabLink("#alerts", "My alerts"), "."));
    const parts = [
      h("h2", { id: "account-title", text: "Account" }),
      this.emailSection(me),
      full ? this.passwordSection() : null,
      this.sessionsSection(n),
      this.tokensSection(n),
      push,
      this.mailSection(n),
      full ? this.deleteSection() : null,
    ];
    clear(this.box).append(...parts.filter(Boolean));
    this.hooks.push.mirror($("acct-push-list"));
    const status = await this.hooks.push.loadList();
    if (n === this.loads && status === 404) unavailable(push);
  }

  tabLink(hash, text) {
    const a = h("a", { text });
    a.href = hash;
    return a;
  }

  emailSection(me) {
    const msg = h("p", { class: "status", role: "status", hidden: true });
    const state =
      me.emailVerified === true
        ? h("span", { class: "badge ok", id: "acct-verified", text: "confirmed" })
        : me.emailVerified === false
          ? h("span", { class: "badge suspect", id: "acct-verified", text: "not confirmed yet" })
          : null;
    const resend =
      me.emailVerified === false
        ? h("button", {
            type: "button",
            id: "acct-resend",
            text: "Send the confirmation mail again",
            onclick: async (e) => {
              const btn = e.currentTarget;
              btn.disabled = true;
              try {
                await api("POST", "/api/me/verification");
                status(msg, `Sent: open the link in the mail to ${str(me.email)}.`, "ok");
              } catch (err) {
                if (err.status === 404) return show(btn, false);
                status(msg, err.status === 429 ? `Asked too often; try again${err.retryAfter ? ` in ${err.retryAfter} s` : " later"}.` : errorText(err));
              } finally {
                btn.disabled = false;
              }
            },
          })
        : null;
    return section("acct-email", "Email", h("p", {}, h("span", { class: "who", id: "acct-address", text: str(me.email) }), " ", state), resend, msg);
  }

  passwordSection() {
    const [cf, current] = pwField("Current password", "current", "current-password", "acct-pw-current");
    const [nf, next] = pwField("New password (at least 8 characters)", "new", "new-password", "acct-pw-new");
    const [rf, again] = pwField("New password again", "again", "new-password", "acct-pw-again");
    const msg = h("p", { class: "status", role: "status", hidden: true });
    const form = h("form", { id: "acct-pw-form" }, cf, nf, rf, msg, h("button", { type: "submit", class: "primary", text: "Change password" }));
    const sec = section("acct-password", "Password", form);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (next.value !== again.value) return status(msg, "The two new passwords differ.");
      try {
        await api("PUT", "/api/me/password", { currentPassword: current.value, newPassword: next.value });
        form.reset();
        status(msg, "Password changed. Your other sessions were signed out; API tokens stay.", "ok");
        this.refreshSessions();
      } catch (err) {
        if (err.status === 404) return unavailable(sec);
        status(msg, err.status === 403 ? "The current password is wrong." : errorText(err));
      }
    });
    return sec;
  }

  sessionsSection(n) {
    const list = h("ul", { class: "acct-list", id: "acct-sessions-list", "aria-labelledby": "acct-sessions-title" });
    const msg = h("p", { class: "status", role: "status", hidden: true });
    const sec = section("acct-sessions", "Signed-in browsers", list, msg);
    this.refreshSessions = async () => {
      let rows;
      try {
        rows = await api("GET", "/api/me/sessions");
      } catch (err) {
        if (n !== this.loads) return;
        if (err.status === 404) return unavailable(sec);
        return status(msg, `Could not load your sessions: ${errorText(err)}`);
      }
      if (n !== this.loads) return;
      clear(list);
      for (const s of Array.isArray(rows) ? rows : []) list.append(this.sessionRow(s, msg));
    };
    this.refreshSessions();
    return sec;
  }

  sessionRow(s, msg) {
    const what = str(s.userAgent) || "A browser";
    const when = [s.lastUsedAt ? `last used ${dateTime(s.lastUsedAt)}` : "", s.createdAt ? `signed in ${dateTime(s.createdAt)}` : ""].filter(Boolean).join(", ");
    return h(
      "li",
      { "data-id": str(s.id) },
      h("span", { class: "who", text: what }),
      s.current ? h("span", { class: "badge", text: "this browser" }) : null,
      when ? h("small", { class: "muted", text: ` ${when}` }) : null,
      " ",
      h("button", {
        type: "button",
        class: "danger",
        text: s.current ? "Sign out" : "Sign out there",
        "aria-label": s.current ? "Sign out this browser" : `Sign out there: ${what}`,
        onclick: async () => {
          try {
            await api("DELETE", `/api/me/sessions/${encodeURIComponent(str(s.id))}`);
            if (s.current) return this.hooks.signedOut("You signed out this browser.");
            this.refreshSessions();
          } catch (err) {
            status(msg, errorText(err));
          }
        },
      }),
    );
  }

  tokensSection(n) {
    const list = h("ul", { class: "acct-list", id: "acct-tokens-list", "aria-labelledby": "acct-tokens-title" });
    const msg = h("p", { class: "status", role: "status", hidden: true });
    const secret = h("div", { id: "acct-token-secret", class: "secret", hidden: true });
    const name = h("input", { type: "text", name: "name", id: "acct-token-name", required: true, maxlength: "100", placeholder: "cron on my server" });
    const form = h("form", { id: "acct-token-form", class: "inline-form" }, field("Name of a new token", name), h("button", { type: "submit", text: "Create token" }));
    const sec = section("acct-tokens", "API tokens", h("p", { class: "muted", text: "A token lets a script use the API as you (Authorization: Bearer …)." }), list, form, secret, msg);
    const refresh = async () => {
      let rows;
      try {
        rows = await api("GET", "/api/tokens");
      } catch (err) {
        if (n !== this.loads) return;
        if (err.status === 404) return unavailable(sec);
        return status(msg, `Could not load your tokens: ${errorText(err)}`);
      }
      if (n !== this.loads) return;
      clear(list);
      const tokens = Array.isArray(rows) ? rows : [];
      for (const t of tokens) list.append(this.tokenRow(t, msg, refresh));
      if (!tokens.length) list.append(h("li", { class: "empty", text: "No API tokens." }));
    };
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const t = await api("POST", "/api/tokens", { name: name.value.trim() });
        form.reset();
        const value = h("input", { type: "text", readonly: true, id: "acct-token-value", "aria-label": "The new token", value: str(t?.token) });
        clear(secret).append(
          h("p", { role: "status" }, h("strong", { text: `Token “${str(t?.name)}” created. ` }), "Copy it now: it is not shown again."),
          value,
          h("button", { type: "button", text: "Copy", onclick: () => navigator.clipboard?.writeText(value.value).then(() => status(msg, "Copied.", "ok"), () => value.select()) }),
          h("button", { type: "button", text: "Done", onclick: () => show(clear(secret), false) }),
        );
        show(secret, true);
        value.select();
        refresh();
      } catch (err) {
        status(msg, errorText(err));
      }
    });
    refresh();
    return sec;
  }

  tokenRow(t, msg, refresh) {
    const name = str(t.name) || "(unnamed)";
    const when = [t.createdAt ? `created ${dateTime(t.createdAt)}` : "", t.lastUsedAt ? `last used ${dateTime(t.lastUsedAt)}` : "never used", t.expiresAt ? `expires ${dateTime(t.expiresAt)}` : ""].filter(Boolean).join(", ");
    return h(
      "li",
      { "data-id": str(t.id) },
      h("span", { class: "who", text: name }),
      h("small", { class: "muted", text: ` ${when}` }),
      " ",
      h("button", {
        type: "button",
        class: "danger",
        text: "Revoke",
        "aria-label": `Revoke the token “${name}”`,
        onclick: async () => {
          try {
            await api("DELETE", `/api/tokens/${encodeURIComponent(str(t.id))}`);
            refresh();
          } catch (err) {
            status(msg, errorText(err));
          }
        },
      }),
    );
  }

  mailSection(n) {
    const tz = h("select", { id: "acct-tz", name: "timeZone" });
    const msg = h("p", { class: "status", role: "status", hidden: true });
    const form = h("form", { id: "acct-mail-form", class: "inline-form" }, field("Time zone of the daily digest (sent at 08:00 there)", tz), h("button", { type: "submit", text: "Save" }));
    const sec = section("acct-mail", "Email settings", h("p", { class: "muted" }, "Whether an alert mails you (each match, a daily digest, or not at all) is set on the alert in ", this.tabLink("#alerts", "My alerts"), "."), form, msg);
    (async () => {
      let saved;
      try {
        saved = str((await api("GET", "/api/me/notifications"))?.timeZone) || "UTC";
      } catch (err) {
        if (n !== this.loads) return;
        if (err.status === 404) return unavailable(sec);
        return status(msg, `Could not load your email settings: ${errorText(err)}`);
      }
      if (n !== this.loads) return;
      const names = new Set(zones()).add(saved).add(browserZone()).add("UTC");
      for (const z of [...names].sort()) tz.append(h("option", { value: z, text: z }));
      tz.value = saved;
      sec.dataset.loaded = "true";
    })();
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const out = await api("PUT", "/api/me/notifications", { timeZone: tz.value });
        status(msg, `Saved: the daily digest follows ${str(out?.timeZone)}.`, "ok");
      } catch (err) {
        status(msg, `Not saved: ${errorText(err)}`);
      }
    });
    return sec;
  }

  deleteSection() {
    const [pf, password] = pwField("Your password", "current", "current-password", "acct-delete-password");
    const sure = h("input", { type: "checkbox", id: "acct-delete-sure", required: true });
    const msg = h("p", { class: "status", role: "alert", hidden: true });
    const form = h(
      "form",
      { id: "acct-delete-form" },
      h("p", { text: "Deleting the account removes it with its alerts, push browsers and mail settings, and signs out every browser. It cannot be undone." }),
      pf,
      h("label", { class: "check" }, sure, "I want to delete my account"),
      msg,
      h("button", { type: "submit", class: "danger", text: "Delete my account" }),
    );
    const sec = section("acct-delete", "Delete account", form);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await api("DELETE", "/api/me", { password: password.value });
        this.hooks.signedOut("Your account was deleted.");
      } catch (err) {
        if (err.status === 404) return unavailable(sec);
        status(msg, err.status === 403 ? "The password is wrong." : errorText(err));
      }
    });
    return sec;
  }
}

// ---- mail links: ?verify=TOKEN, ?reset=TOKEN ----

/** dropParam removes a query parameter from the address without a reload. */
function dropParam(name) {
  const u = new URL(location.href);
  u.searchParams.delete(name);
  history.replaceState(null, "", u);
}

/**
 * handleLinks acts on the links of account mails: ?verify=TOKEN is POSTed
 * to /api/verify (never on GET, so a mail scanner following the link
 * confirms nothing); ?reset=TOKEN shows "Choose a new password"
 * (#reset-panel), POSTed to /api/password/reset, which signs this browser
 * in. hooks: signedIn(user), refresh() (re-read /api/me).
 */
export function handleLinks(hooks) {
  const q = new URLSearchParams(location.search);
  const verify = q.get("verify");
  const reset = q.get("reset");
  if (verify) {
    dropParam("verify");
    api("POST", "/api/verify", { token: verify }).then(
      (user) => {
        toast(`Your email address ${str(user?.email)} is confirmed.`, { kind: "info", key: "verify", sticky: true });
        hooks.refresh();
      },
      (err) =>
        toast(err.status === 404 ? "Confirming email addresses is not available on this server." : `This confirmation link does not work: ${errorText(err)}`, {
          kind: "error",
          key: "verify",
          sticky: true,
        }),
    );
  }
  if (reset) resetPanel(reset, hooks);
}

function resetPanel(token, hooks) {
  const [nf, next] = pwField("New password (at least 8 characters)", "new", "new-password", "reset-password");
  const [rf, again] = pwField("New password again", "again", "new-password", "reset-again");
  const msg = h("p", { class: "status error", role: "alert", hidden: true });
  const form = h(
    "form",
    { id: "reset-form" },
    h("h2", { id: "reset-title", text: "Choose a new password" }),
    h("p", { class: "muted", text: "Setting it signs you in here and signs out every other browser." }),
    nf,
    rf,
    msg,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: "Set the password" }), h("button", { type: "button", text: "Cancel", onclick: () => close() })),
  );
  const panel = h("section", { id: "reset-panel", class: "auth card", "aria-labelledby": "reset-title" }, form);
  const close = () => {
    panel.remove();
    dropParam("reset");
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (next.value !== again.value) return status(msg, "The two passwords differ.");
    try {
      const user = await api("POST", "/api/password/reset", { token, password: next.value });
      close();
      hooks.signedIn(user);
      toast("Your password is changed and you are signed in. Other browsers were signed out.", { kind: "info" });
    } catch (err) {
      status(msg, err.status === 404 ? "Resetting a password is not available on this server." : errorText(err));
    }
  });
  $("auth-panel").after(panel);
  next.focus();
}

// ---- forgot password ----

/**
 * forgotPassword adds "Forgot your password?" to the sign-in panel: a form
 * (#forgot-form) that POSTs the address to /api/password/forgot. The
 * answer is the same whether or not the address has an account.
 */
export function forgotPassword() {
  const authForm = $("auth-form");
  const email = h("input", { type: "email", id: "forgot-email", name: "email", autocomplete: "email", required: true });
  const msg = h("p", { id: "forgot-status", class: "status", role: "status", hidden: true });
  const back = () => {
    show(form, false);
    show(authForm, true);
    $("auth-email").focus();
  };
  const form = h(
    "form",
    { id: "forgot-form", hidden: true, "aria-labelledby": "forgot-title" },
    h("h2", { id: "forgot-title", text: "Reset your password" }),
    h("p", { class: "muted", text: "We mail you a link to choose a new password. It works for one hour." }),
    field("Email", email),
    msg,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: "Send the link" }), h("button", { type: "button", id: "forgot-back", text: "Back to sign in", onclick: back })),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api("POST", "/api/password/forgot", { email: email.value.trim() });
      status(msg, `If ${email.value.trim()} has an account, a link to reset its password is on its way.`, "ok");
    } catch (err) {
      const why = err.status === 404 ? "Resetting a password is not available on this server." : err.status === 429 ? `Asked too often; try again${err.retryAfter ? ` in ${err.retryAfter} s` : " later"}.` : errorText(err);
      status(msg, why);
    }
  });
  const open = h("button", {
    type: "button",
    id: "auth-forgot",
    class: "link",
    text: "Forgot your password?",
    onclick: () => {
      email.value = $("auth-email").value;
      status(msg, "");
      show(authForm, false);
      show(form, true);
      email.focus();
    },
  });
  authForm.querySelector(".actions")?.append(open);
  authForm.after(form);
  // The panel opens on the sign-in form again.
  return () => {
    show(form, false);
    show(authForm, true);
  };
}

// ---- first visit ----

/**
 * welcome shows, on a first visit (signed out, nothing stored), what
 * birjob does and an invitation to create an alert (#welcome). start runs
 * for "Create an alert".
 */
export function welcome(start) {
  if (recall(VISITED) || $("welcome")) return;
  const done = () => {
    remember(VISITED, "1");
    $("welcome")?.remove();
  };
  const box = h(
    "section",
    { id: "welcome", class: "card welcome", "aria-labelledby": "welcome-title" },
    h("h2", { id: "welcome-title", text: "Be told the moment the job you want is posted" }),
    h("p", {
      text: "birjob gathers job postings from job boards as they appear. Save what you look for as an alert, and birjob tells you the moment a matching job is found: on this page, as a browser notification, or by mail. No more checking job sites every morning.",
    }),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "primary", id: "welcome-start", text: "Create an alert", onclick: () => (done(), start()) }),
      h("button", { type: "button", id: "welcome-dismiss", text: "Just browse the jobs", onclick: done }),
    ),
  );
  $("tab-jobs").prepend(box);
}

/** visited records that the browser has been used (sign-in): no welcome any more. */
export function visited() {
  remember(VISITED, "1");
  $("welcome")?.remove();
}
