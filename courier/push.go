package courier

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"

	"github.com/birjob/birjob/internal/netguard"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// Payload is the JSON a push message carries, decrypted by the browser and
// shown by the service worker (web/static/sw.js) as a notification: Title
// and Body as they are, Tag as the notification's tag (one per alert, so a
// later push replaces the earlier notification), URL opened on click.
type Payload struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	// URL is the job's own page when Count is 1, else birjob's page.
	URL string `json:"url"`
	// Tag is "alert-<id>".
	Tag string `json:"tag"`
	// Count is how many matches of the alert this push stands for.
	Count int `json:"count"`
	// Alert is the alert's id; Job the newest matching job's id.
	Alert int64 `json:"alert"`
	Job   int64 `json:"job"`
}

// maxPushText caps a title or body, so a payload stays within the 4 kB a
// push service accepts.
const maxPushText = 300

// pushPayload is the push of a group of matches of one alert.
func (c *Courier) pushPayload(a storage.CourierAlert, group []storage.QueueItem) ([]byte, error) {
	var newest model.JobEvent
	if err := json.Unmarshal(group[len(group)-1].Data, &newest); err != nil {
		return nil, fmt.Errorf("event %d: %w", group[len(group)-1].EventID, err)
	}
	p := Payload{Tag: "alert-" + strconv.FormatInt(a.ID, 10), Count: len(group), Alert: a.ID, Job: newest.ID}
	name := a.Name
	if name == "" {
		name = "your alert"
	}
	if p.Count == 1 {
		p.Title = newest.Title
		p.Body = strings.Join(nonEmpty(newest.Company, newest.Location), " · ")
		p.URL = newest.URL
	} else {
		p.Title = fmt.Sprintf("%d new jobs: %s", p.Count, name)
		p.Body = fmt.Sprintf("%s and %d more", newest.Title, p.Count-1)
	}
	if p.URL == "" || len(p.URL) > 1000 {
		p.URL = c.cfg.PublicURL + "/?alert=" + strconv.FormatInt(a.ID, 10)
	}
	p.Title, p.Body = clip(p.Title, maxPushText), clip(p.Body, maxPushText)
	return json.Marshal(p)
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// clip cuts s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// sendPush sends one push for a group of matches of one alert to one
// subscription, and records the outcome.
func (c *Courier) sendPush(ctx context.Context, b *batch, group []storage.QueueItem) error {
	a, ok := b.alerts[group[0].AlertID]
	sub, subOK := b.subs[group[0].Target]
	if !ok || a.Paused || a.Muted || !subOK {
		return c.store.Dequeue(ctx, ids(group)) // paused, muted or gone since: nothing to say
	}
	payload, err := c.pushPayload(a, group)
	if err == nil {
		err = CheckEndpoint(sub.Endpoint, c.cfg.AllowPrivate)
	}
	if err != nil {
		c.log.Warn("push dropped", "subscription_id", sub.ID, "alert_id", a.ID, "err", err)
		c.m.pushFailed.Inc()
		return c.store.Dequeue(ctx, ids(group))
	}
	c.hook()
	resp, err := webpush.SendNotificationWithContext(ctx, payload, &webpush.Subscription{
		Endpoint: sub.Endpoint, Keys: webpush.Keys{P256dh: sub.P256dh, Auth: sub.Auth},
	}, &webpush.Options{
		HTTPClient:      c.http,
		Subscriber:      strings.TrimPrefix(c.cfg.VAPIDSubject, "mailto:"), // webpush-go adds it back
		Topic:           "alert-" + strconv.FormatInt(a.ID, 10),
		TTL:             pushTTL,
		Urgency:         webpush.UrgencyNormal,
		VAPIDPublicKey:  c.keys.VAPIDPublic,
		VAPIDPrivateKey: c.keys.VAPIDPrivate,
	})
	if err != nil && ctx.Err() != nil {
		return ctx.Err() // stopped mid-send: the rows stay queued and go out again
	}
	// An answer is recorded even when the courier is stopping meanwhile,
	// so that a graceful stop sends nothing twice.
	ctx, cancel := recordCtx(ctx)
	defer cancel()
	status := 0
	if resp != nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		status = resp.StatusCode
	}
	return c.pushOutcome(ctx, sub, group, status, err)
}

// pushOutcome records what the push service answered.
func (c *Courier) pushOutcome(ctx context.Context, sub storage.PushSubscription, group []storage.QueueItem, status int, sendErr error) error {
	log := c.log.With("subscription_id", sub.ID, "alert_id", group[0].AlertID, "status", status)
	switch {
	case sendErr == nil && status >= 200 && status < 300:
		c.m.pushSent.Inc()
		return c.store.Tx(ctx, func(tx *storage.Store) error {
			if err := tx.Dequeue(ctx, ids(group)); err != nil {
				return err
			}
			return tx.PushOutcome(ctx, sub.ID, true)
		})
	case status == http.StatusNotFound || status == http.StatusGone:
		log.Info("push subscription gone: removed")
		c.m.pushFailed.Inc()
		return c.store.RemovePushSubscription(ctx, sub.ID)
	case sendErr != nil || status == http.StatusTooManyRequests || status >= 500:
		if err := c.store.PushOutcome(ctx, sub.ID, false); err != nil {
			return err
		}
		dropped, err := c.retry(ctx, group)
		if dropped {
			c.m.pushFailed.Inc()
			log.Warn("push given up", "err", sendErr)
		} else {
			c.m.pushRetried.Inc()
			log.Debug("push failed, will retry", "err", sendErr)
		}
		return err
	default: // refused (400, 401, 403, 413): sending it again changes nothing
		log.Warn("push refused by the push service")
		c.m.pushFailed.Inc()
		if err := c.store.PushOutcome(ctx, sub.ID, false); err != nil {
			return err
		}
		return c.store.Dequeue(ctx, ids(group))
	}
}

// CheckEndpoint says why a push endpoint may not be used, or returns nil:
// it must be an https URL of a public address, or, when private addresses
// are allowed, also http on loopback. Host names are checked again on
// every connection, after DNS (see netguard).
func CheckEndpoint(raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || len(raw) > 2048 {
		return fmt.Errorf("endpoint must be an https URL of at most 2048 bytes")
	}
	host := u.Hostname()
	ip, ipErr := netip.ParseAddr(host)
	loopback := host == "localhost" || (ipErr == nil && ip.IsLoopback())
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowPrivate && loopback:
	default:
		return fmt.Errorf("endpoint must be an https URL, got %s://", u.Scheme)
	}
	if allowPrivate {
		return nil
	}
	if host == "localhost" {
		return fmt.Errorf("endpoint %s is loopback", host)
	}
	if ipErr == nil {
		if why := netguard.Why(ip); why != "" {
			return fmt.Errorf("endpoint address %s is %s", ip, why)
		}
	}
	return nil
}

// pushClient is the HTTP client of pushes: it dials only public addresses
// unless private ones are allowed, and follows no redirect.
func pushClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !allowPrivate {
		d.Control = netguard.Control
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = d.DialContext
	tr.Proxy = nil
	return &http.Client{
		Transport:     tr,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
