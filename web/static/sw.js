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
    const visible = tabs.filter((c) => c.visibilityState === 'visible');
    if (visible.length) {
      // Quiet: the visible tab shows the match live. It hears that the
      // worker stayed quiet (the page ignores it; tests wait on it).
      for (const c of visible) c.postMessage({ type: 'push-quiet', tag: msg.tag || '' });
      return;
    }
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
  event.waitUntil(openURL(event.notification.data && event.notification.data.url));
});

// clickTarget decides what a click on a notification for url does: a tab
// already showing url is focused ("focus"); for a page of birjob (several
// matches: "/?alert=<id>") a birjob tab this worker controls is taken
// there ("navigate"); anything else (the job's own page) opens in a new
// window ("open").
async function clickTarget(raw) {
  let url;
  try {
    url = new URL(raw || '/', self.location.origin);
  } catch {
    url = new URL('/', self.location.origin);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') url = new URL('/', self.location.origin);
  const all = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const same = all.find((c) => c.url === url.href);
  if (same) return { action: 'focus', url: url.href, client: same };
  if (url.origin === self.location.origin) {
    // (navigate works only on a tab this worker controls.)
    const controlled = await self.clients.matchAll({ type: 'window' });
    if (controlled.length) return { action: 'navigate', url: url.href, client: controlled[0] };
  }
  return { action: 'open', url: url.href, client: null };
}

// openURL carries out clickTarget's decision and resolves to {action, url}
// and, when the browser refused, error. Browsers allow focus and
// openWindow only while a notification's click is being handled.
async function openURL(raw) {
  const { action, url, client } = await clickTarget(raw);
  try {
    if (action === 'focus') await client.focus();
    else if (action === 'navigate') await ((await client.navigate(url)) || client).focus();
    else await self.clients.openWindow(url);
    return { action, url };
  } catch (err) {
    return { action, url, error: String((err && err.message) || err) };
  }
}

// A page may ask the worker to run a notification's click (tests: the
// DevTools protocol cannot click a notification): {type: 'open-notification',
// tag} runs openURL for the shown notification with that tag and answers
// on the message's port with what it did. Outside a real click the browser
// refuses focus and openWindow (the answer's error says so); navigate
// works. Only same-origin
// pages can message the worker; the url comes from a notification this
// worker showed, never from the message.
self.addEventListener('message', (event) => {
  const msg = event.data || {};
  if (msg.type !== 'open-notification' || !event.ports[0]) return;
  const port = event.ports[0];
  event.waitUntil((async () => {
    try {
      const shown = await self.registration.getNotifications({ tag: String(msg.tag || '') });
      if (!shown.length) throw new Error('no notification with tag ' + msg.tag);
      const n = shown[0];
      const url = n.data && n.data.url;
      n.close();
      port.postMessage(await openURL(url));
    } catch (err) {
      port.postMessage({ error: String((err && err.message) || err) });
    }
  })());
});
