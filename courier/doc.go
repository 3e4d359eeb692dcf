// Package courier is the pipeline stage that reaches people when their page
// is closed: it sends the matches of their alerts as Web Push messages (to
// every browser they turned push on in) and as mail (per alert: instantly,
// in a daily digest, or not at all).
//
// # Driven by the event log
//
// The courier reads the event log like a client that never disconnects.
// It has one durable cursor per channel of delivery (table courier_cursors,
// kinds "push" and "mail"; a fresh install starts at the log's end). It
// takes the matcher's new-job events of users' channels (the ones whose
// data carries "alerts") and, in one transaction per batch, inserts one
// courier_queue row per (kind, event, alert, target) and advances the
// cursor past the batch. So every match is queued exactly once per kind,
// however a node stops; the unique key (kind, event_id, alert_id, target)
// is the dedupe key and makes a repeated insert a no-op. Targets: for push
// each of the user's subscriptions at that moment; for mail 0 (the
// address is read when the mail is written). A paused alert, or one whose
// email is off, queues no mail; a paused one queues no push. A muted alert
// (alerts.muted, issue 15) queues neither: it still matches, and its
// matches reach the page, but nobody is told; one muted after its matches
// were queued has them dropped unsent.
//
// It wakes on the events trigger's NOTIFY (NotifyChannel, the one the hubs
// listen to), on a timer when the next queued group becomes due (burst
// window, retry, digest hour), and every PollInterval as a safety net.
//
// # Sending, at least once
//
// A queue row is deleted in the transaction that records its send (the
// outbox table's insert, or the push service's or SMTP server's
// acceptance). A node killed while sending leaves its rows queued, and the
// next courier sends them, so nothing is lost. The one window for a
// duplicate is a message the push service or SMTP server accepted whose
// rows were not yet deleted when the node died: at most the groups in
// flight at that moment (Senders of them, one message each) go out twice.
// Such a push carries the same Topic and tag ("alert-<id>"), so the push
// service and the browser replace the first with the second; such a mail
// carries the same Message-ID. Mail kept in the outbox table (no SMTP
// configured) is written in the dequeuing transaction: exactly once. A
// graceful stop records the answers that arrive after it began, so only
// requests it cuts short are sent again.
//
// Events the retention purge removed before the courier read them (a
// courier down longer than BIRJOB_RETENTION) are not sent.
//
// # One courier per cluster
//
// Any node with the role (BIRJOB_COURIER) runs Run; the node whose session
// holds PostgreSQL's session advisory lock CourierLockKey sends, on the
// same dedicated connection that LISTENs. The others try again every
// PollInterval. If that node dies its connection closes, the lock is
// released, and another node takes over from the cursors and the queue.
//
// # Grouping
//
// Rows wait BurstWindow (default 2 s) before they are due, and a group
// (one alert and one target) goes out whole once its oldest row is due.
// So a burst of matches of one alert is one push with a count, or one
// mail listing the jobs (at most 50 a mail). Digest rows are due at
// DigestHour:00 (default 8) of the user's time zone (users.time_zone,
// default UTC): one digest mail per alert and day.
//
// # Failures
//
// A push answered 404 or 410 removes the subscription and its queued
// rows. 429, 5xx and network errors are retried after RetryBase (15 s)
// doubling up to RetryMax (1 h), at most MaxAttempts times; other 4xx
// answers drop the message (sending it again would not help). Mail failures
// are retried the same way. A group waiting for a retry keeps its later
// matches with it, so a retried push still carries the whole count.
//
// # Web Push
//
// Messages are encrypted as RFC 8291 (aes128gcm) and signed with VAPID
// (RFC 8292) by github.com/SherClockHolmes/webpush-go. The VAPID key pair
// is generated once and kept in courier_keys, so every node signs alike,
// unless BIRJOB_VAPID_PUBLIC_KEY and BIRJOB_VAPID_PRIVATE_KEY give one;
// the page reads the public key from GET /api/push/key. Push endpoints are
// URLs users supply: CheckEndpoint accepts https on public addresses only
// (and, with AllowPrivate, http on loopback too), and every connection is
// checked again after DNS (internal/netguard).
//
// The payload is Payload as JSON: {"title","body","url","tag","count",
// "alert","job"}. The service worker (web/static/sw.js) shows it with
// showNotification(title, {body, tag, data: {url}}), unless a birjob tab
// is visible (that tab shows the match live already), and opens url on
// notificationclick (a window already showing it is focused instead).
// url is the job's own page for a single match, birjob's page
// ("/?alert=<id>") for several.
//
// # Mail
//
// Mail goes over SMTP (BIRJOB_SMTP_URL, smtp:// with STARTTLS when
// offered, or smtps://; BIRJOB_MAIL_FROM) with github.com/wneessen/go-mail.
// Every mail has a plain-text part and an HTML part, List-Unsubscribe
// with a one-click https link (RFC 8058: List-Unsubscribe-Post:
// List-Unsubscribe=One-Click) whose token is the alert id signed with
// HMAC-SHA256 under a key kept in courier_keys (UnsubscribeToken); POST
// /api/unsubscribe?t=… (or the form GET shows) sets the alert's email to
// off, and rows still queued for it are then dropped unsent. With no SMTP
// URL the mails are kept in the mail_outbox table, which an admin reads at
// GET /api/admin/mail and on the page's #admin/mail (ReadOutboxMail takes
// each apart for it): `make run` shows the feature without a mail server.
//
// Account mails (the link that confirms an address, the one that resets a
// password) take the same route through AccountMailer, which the app hands
// to the API as a small interface (the API does not call the courier
// stage): they are sent at once by the web node serving the request, not
// queued, since a person is waiting for them and asks again when one does
// not come. Plain text only; the link opens the page, which POSTs the
// token.
//
// # Metrics
//
// birjob_push_sent_total, birjob_push_failed_total,
// birjob_push_retried_total, birjob_mail_sent_total,
// birjob_mail_failed_total, birjob_mail_retried_total, and
// birjob_courier_oldest_unsent_seconds{kind="push"|"mail"|"digest"}: the
// age of the oldest queued event that should have gone out by now (0 when
// none), on the node that is the courier.
package courier
