// birjob's service worker: shows the Web Push messages the courier sends
// when a match arrives and no birjob tab is on screen.
//
// The server's contract (courier.Payload, see courier/doc.go): each push
// carries JSON {title, body, url, tag, count, alert, job}, encrypted for
// this browser (RFC 8291) and signed with the cluster's VAPID key (the page
// subscribes with applicationServerKey = GET /api/push/key's publicKey and
// POSTs subscription.toJSON() to /api/push/subscriptions). tag is
// "alert-<id>": a later push of the same alert replaces the earlier
// notification. url is the job's page for one match, birjob's page for
// several (count > 1).
//
// A visible birjob tab already shows the match live (the event stream), so
// the worker stays quiet then. Push works whatever this worker's scope:
// the tabs are found with includeUncontrolled.

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  let msg = {};
  try {
    msg = event.data ? event.data.json() : {};
  } catch {
    msg = { title: 'birjob', body: event.data ? event.data.text() : '' };
  }
  event.waitUntil((async () => {
    const tabs = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    if (tabs.some((c) => c.visibilityState === 'visible')) return;
    await self.registration.showNotification(msg.title || 'New job on birjob', {
      body: msg.body || '',
      tag: msg.tag || undefined,
      renotify: Boolean(msg.tag),
      data: { url: msg.url || '/', alert: msg.alert, job: msg.job, count: msg.count },
    });
  })());
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL((event.notification.data && event.notification.data.url) || '/', self.location.origin).href;
  event.waitUntil((async () => {
    const tabs = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const open = tabs.find((c) => c.url === url);
    if (open) return open.focus();
    return self.clients.openWindow(url);
  })());
});
