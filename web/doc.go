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
// An unknown or outdated asset URL is a 404. Assets are gzipped once at
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
// static/live.js is the transport client, written to be reusable: SSE first,
// WebSocket when SSE never connects, long polling when WebSocket does not
// either; resume from the last event id on every reconnect (also across
// reloads, via sessionStorage); exponential backoff with jitter. The page
// URL parameter ?transport=sse|ws|poll pins one transport. The element #conn
// shows the state of the "jobs" subscription; its data-state ("connecting",
// "live", "reconnecting", "closed") and data-transport ("sse", "ws", "poll")
// attributes are stable for tests, as are data-me-state and
// data-me-transport for the signed-in user's "me" channel.
//
// The job list subscribes before it loads GET /api/jobs and keys rows by
// job id, so an event that races the load, or a replayed one, shows once.
// While a search is active new jobs are counted, not mixed into the results.
package web
