// Package web serves birjob's single page: a live job list, the signed-in
// user's alerts with in-page and browser notifications, and the admin pages
// for sources, public feeds and hub stats. It is plain HTML, CSS and
// JavaScript modules embedded in the binary: no build step, no npm, no CDN,
// so the page works offline.
//
// # Serving
//
// [Handler] serves GET / (templates/index.html, parsed once at start) and
// GET /static/<name>.<hash>.<ext>. Every file of static/ gets a URL that
// carries the first 12 hex digits of the SHA-256 of its content, and is
// served with "Cache-Control: public, max-age=31536000, immutable". The
// modules import each other as "./name.js"; at start those specifiers are
// rewritten to the hashed names (dependencies first), so a change in a
// module changes the URL of every module that imports it, and the page,
// served with "Cache-Control: no-cache", always names the current files.
// An unknown or outdated asset URL is a 404. The one exception is the
// service worker, static/sw.js, served at GET /sw.js with "Cache-Control:
// no-cache": a worker's scope is at most its script's folder, birjob's
// must be "/", and a registration keeps one script URL, so it cannot be
// hashed; the browser revalidates it on its update checks. Assets are gzipped once at
// start and sent compressed to clients that accept it. Mounted as the app's
// fallback "/", the handler answers API paths that nothing else serves with
// a JSON 404 ({"error": "..."}).
//
// # Security
//
// The page is sent with a strict Content-Security-Policy (only 'self' for
// scripts, styles and connections; no inline script or style), nosniff,
// Referrer-Policy same-origin and X-Frame-Options DENY. Everything shown is
// untrusted scraped text: the scripts build the DOM with textContent and
// createElement only, never innerHTML, and make links only of http(s) URLs,
// with rel="noopener noreferrer nofollow".
//
// # The client
//
// static/live.js is the transport client, written to be reusable: one
// stream of several channels (GET /api/events?channels=jobs,me; the same for
// long polling; on a WebSocket one join per channel), SSE first, WebSocket
// when SSE never comes up, long polling when WebSocket does not either. A
// transport that opens but sends no opening message ("connected"; "welcome"
// and every "joined"; a first poll answer) within 5 s has failed too (a
// proxy that buffers the response). It keeps a position per channel and
// resumes from it on every reconnect, drops events at or below it, and
// backs off exponentially with jitter. The page URL parameter
// ?transport=sse|ws|poll pins one transport.
//
// static/tabs.js makes that one stream per browser: the tab holding the Web
// Lock "birjob-stream" runs it and passes events, positions and its state
// to the other tabs over the BroadcastChannel "birjob"; when it closes the
// next tab in the lock's queue resumes from the positions it heard. Each
// channel of the stream carries a coverage id (since when it was delivered
// without a gap); a tab whose list was read before it reloads that list.
// Sign-in, sign-out and a session ended by the server (session-ended, or a
// 401 from a stream request) are broadcast, and every tab follows; the
// stream then reopens with or without "me". A tab that ends its own
// session (sign-out, deleting the account, revoking this browser's
// session) says so first, with the reason the other tabs show; a password
// reset, which ends every session and signs this browser in afresh, only
// pauses the stream until the new cookie is set. Without Web Locks or
// BroadcastChannel each tab runs its own stream.
//
// The lists (static/jobs.js, static/alerts.js) keep the cursor their load
// came with (GET /api/jobs and GET /api/alerts answer with "lastEventId",
// read in the rows' snapshot) and apply an event only when its id is above
// it; events that arrive during a load wait for the answer. The stream
// starts from those cursors. Job rows are keyed by job id too.
//
// # The job list
//
// static/jobs.js owns the Jobs tab. The query and the filters beside it
// (#f-location, #f-remote, #f-salary, #f-type, #f-source, #f-sort, and the
// "Saved jobs" toggle) are the parameters of GET /api/jobs and live in the
// page's URL query string under the same names: every change is a
// history.pushState entry, popstate reloads the list, so a search can be
// bookmarked and Back works (other parameters, such as ?transport=, are
// kept). While the list is a search (any filter, the salary order or the
// saved jobs) it stays as loaded; new-job events are collected and the
// server is asked which of them match (GET /api/jobs with ids=), and
// #jobs-notice counts only those (data-count). An empty search says so
// and offers #jobs-empty-clear and #jobs-empty-alert. #alert-from-search
// POSTs the answer's "criteria" as an alert and #jobs-status tells its
// currentMatches (data-matches). A title opens the job's details in the
// modal <dialog id="job-details"> (data-complete="true" once GET
// /api/jobs/{id} answered): the description as text, every source, salary,
// dates, #job-apply, #job-save and #job-hide (signed out: a prompt to sign
// in). #jobs[data-user] names whose list was loaded last, and
// #jobs[data-query] its query string (for tests: which load is shown).
//
// The "… ago" labels (time[data-at]) are rewritten by one timer for the
// whole page (every 5 s; window.birjobAgoInterval in ms overrides it for
// tests), all against one clock reading, rounded down (under 10 s "just
// now", then tens of seconds), and never younger than the row above: a row
// shows when birjob found the job (firstSeenAt; for an event without it,
// when it arrived), not the board's date, which is in the details.
//
// # When the page is closed
//
// static/push.js registers the service worker (/sw.js, scope "/") on every
// load, and for a signed-in user runs the panel "When the page is closed"
// in the alerts tab: the checkbox #push-toggle asks for the Notification
// permission, subscribes with the VAPID key of GET /api/push/key and POSTs
// subscription.toJSON() to /api/push/subscriptions (off: DELETE, then
// unsubscribe; a failure unticks it and #push-status says why); #push-list
// lists the browsers that receive push (GET /api/push/subscriptions), this
// one marked, each with a Remove button; #tz is the time zone of the daily
// mail digest (GET/PUT /api/me/notifications), preselected to the
// browser's own (Intl) when the account still has the default "UTC", with
// a note that it is not saved until Save. Each alert card has a select
// for its mail mode ("email": off, instant, daily) saved at once with PUT
// /api/alerts/{id}; a failed save puts the old value back and says why.
//
// The worker (static/sw.js; the payload is courier.Payload) shows one
// notification per push, tag "alert-<id>", so a later push of the alert
// replaces it. While a birjob tab is visible it shows nothing (that tab
// shows the match live) and posts {type: "push-quiet", tag} to the visible
// tabs instead. A click decides in one place (clickTarget): a tab already
// showing the URL is focused; a birjob URL ("/?alert=<id>", several
// matches) takes a birjob tab the worker controls there; any other URL
// (the job's page) opens in a new window. "/?alert=<id>" shows the alerts
// tab with that alert's card scrolled to and marked data-linked. A page
// may message the worker {type: "open-notification", tag} (with a
// MessagePort) to run a shown notification's click: the DevTools protocol
// can deliver a push (ServiceWorker.deliverPushMessage) but cannot click a
// notification. Outside a real click Chromium refuses focus() and
// openWindow() (the answer carries that error after the decision);
// navigate() works.
//
// Headless Chromium cannot subscribe in the tests: their tabs live in
// fresh browser contexts, which are incognito, where Chrome has no Push API
// ("Registration failed - permission denied"), and a real subscription
// would reach Google's push service, which tests must not. The tests check
// the toggle's error and make subscriptions through the API instead.
//
// # Notifications, first visit and the account page (issue 15)
//
// static/alerts.js tells of the matches of the "me" channel once per
// alert and burst: one toast (key "alert-<id>", updated with the count)
// and one browser notification (tag "alert-<id>", after NOTIFY_BURST_MS),
// the latter only while the user is not looking and not where this browser
// receives push (the worker shows the courier's push there). Expired
// matches are only marked. A muted alert ("muted", see migrations
// 014_alert_mute.sql) is listed but silent. #notify-btn is this browser's
// switch (localStorage "birjob-notifications"); when the browser blocks
// notifications it explains how to allow them again. static/toast.js
// keeps at most three toasts (older ones collapse into .toast-more),
// clears them on sign-out or another user, and shows the unread count in
// the title and as a badge on the favicon (<html data-unread>, <link
// rel=icon data-badge>) until the page is visible with focus.
//
// static/account.js builds #tab-account from the account API of issue 14
// (README, API): a section whose list answers 404 is hidden
// (data-unavailable); the write-only ones (password, delete, resend)
// appear only when GET /api/me carries "emailVerified". It acts on the
// mail links ?verify=TOKEN (POST /api/verify) and ?reset=TOKEN
// (#reset-panel, POST /api/password/reset), adds "Forgot your password?"
// (#forgot-form, POST /api/password/forgot) to the sign-in panel, and
// shows #welcome on a first visit (signed out, localStorage
// "birjob-visited" unset). Resending the confirmation shows the 429's
// Retry-After, and a 409 (confirmed meanwhile, elsewhere) as confirmed; an
// alert refused with the 403 of BIRJOB_REQUIRE_EMAIL_VERIFICATION links
// to the account page. The page is tested against a real node in
// cmd/birjob/account_browser_test.go (real mails through smtptest, real
// streams); this package's tests keep what needs no backend of issue 14
// (sections hidden on 404).
//
// # Layout and the admin tab
//
// The header is one row at every width: below 40rem a signed-in header
// keeps the brand, the connection pill and a Menu button (#menu-toggle,
// static/menu.js) that opens the sections and the account (#menu); signed
// out it keeps the brand, the pill and "Sign in". Escape closes the menu or
// the sign-in panel and gives the focus back to the button that opened it.
//
// The admin tab has four parts with URLs of their own: #admin/sources
// (the default; each source with a health dot, its last and next run and,
// when something is wrong, why; on a phone a card), #admin/stats
// (static/charts.js: the cluster's GET /api/admin/stats drawn as inline
// SVG charts, each with a sentence that is also its accessible name;
// refreshed every 10 s while shown), #admin/feeds and #admin/mail (the
// outbox of GET /api/admin/mail, newest first, 50 at a time: the mail kept
// instead of sent when no SMTP server is configured, which its first line
// says; a mail opens to its plain-text part as text, and its HTML part
// only in an iframe with sandbox="" and srcdoc, made when that part is
// opened, where nothing of it runs or reaches the page). The source form
// (static/sourceform.js) has every selector of each kind and every setting
// of scraper.Settings, with examples; keys it does not know are kept.
// Preview, "Run now" and the run history open in one panel
// (#source-output) right under the source's row (or the form), scrolled
// into view, with the focus on its heading. A feed name's pattern is the
// server's rule (model.ValidFeedName) written for the "v" flag that
// Chromium compiles pattern attributes with.
//
// The page needs no npm; the browser tests do, for axe-core (see package
// internal/browsertest), which they run on every view of the table
// pageViews in cmd/birjob, in light and dark mode.
//
// The element #conn shows the browser's stream in every tab; its data-state
// ("connecting", "live", "reconnecting", "closed"), data-transport ("sse",
// "ws", "poll"), data-me-state and data-me-transport (present while "me" is
// on the stream) and data-holder ("here" in the tab that holds the stream,
// else "other") are stable for tests.
package web
