package courier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
	_ "time/tzdata" // users' time zones, also where the system has no zoneinfo

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/wneessen/go-mail"

	"github.com/birjob/birjob/storage"
)

// NotifyChannel is the PostgreSQL channel the events trigger notifies on
// every commit of new events (the one notify's hub listens to).
const NotifyChannel = "birjob_events"

// Defaults of Config, and why.
const (
	// DefaultBurstWindow is how long a match waits for others of the same
	// alert before it goes out: a scrape that finds ten jobs for one alert
	// commits them within moments, and they become one notification.
	DefaultBurstWindow = 2 * time.Second
	// DefaultRetryBase is the first retry delay after a failed send; it
	// doubles with every attempt up to DefaultRetryMax.
	DefaultRetryBase = 15 * time.Second
	// DefaultRetryMax caps the retry delay.
	DefaultRetryMax = time.Hour
	// DefaultMaxAttempts is how many failed sends a message gets before it
	// is dropped (with 15 s doubling to 1 h, about a day of trying).
	DefaultMaxAttempts = 30
	// DefaultPollInterval is the safety net for a lost notification, and
	// how often a node that is not the courier tries to become it.
	DefaultPollInterval = 30 * time.Second
	// DefaultDigestHour is the hour of the user's day the digest goes out.
	DefaultDigestHour = 8
	// DefaultBatch is how many events one transaction takes from the log.
	DefaultBatch = 1000
	// DefaultSenders is how many pushes or mails are in flight at once.
	DefaultSenders = 4
	// pushTTL is how long a push service keeps an undelivered message.
	pushTTL = 24 * 60 * 60
)

// Config configures the courier.
type Config struct {
	// PublicURL is birjob's address as people reach it (https://…): the
	// links of pushes and mails, and the unsubscribe link, start with it.
	PublicURL string
	// VAPIDPublicKey and VAPIDPrivateKey, when both set, sign pushes
	// instead of the pair generated once and kept in the database.
	VAPIDPublicKey, VAPIDPrivateKey string
	// VAPIDSubject is the contact in the VAPID token (mailto: or https:).
	VAPIDSubject string
	// SMTPURL is smtp://user:pass@host:587 (STARTTLS when offered) or
	// smtps://user:pass@host:465; empty keeps mail in the outbox table.
	SMTPURL string
	// MailFrom is the From address of mails.
	MailFrom string
	// DigestHour is the hour (0-23) of the user's day the digest goes out;
	// 0 is midnight (the app passes BIRJOB_DIGEST_HOUR, default 8).
	DigestHour int
	// AllowPrivate lets push endpoints be loopback or private addresses
	// (tests, the demo), and then plain http on loopback too.
	AllowPrivate bool
	BurstWindow  time.Duration
	RetryBase    time.Duration
	RetryMax     time.Duration
	MaxAttempts  int
	PollInterval time.Duration
	Batch        int
	Senders      int
}

func (c *Config) defaults() {
	if c.BurstWindow < 0 {
		c.BurstWindow = 0
	} else if c.BurstWindow == 0 {
		c.BurstWindow = DefaultBurstWindow
	}
	if c.RetryBase <= 0 {
		c.RetryBase = DefaultRetryBase
	}
	if c.RetryMax <= 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Batch <= 0 {
		c.Batch = DefaultBatch
	}
	if c.Senders <= 0 {
		c.Senders = DefaultSenders
	}
	if c.DigestHour < 0 || c.DigestHour > 23 {
		c.DigestHour = DefaultDigestHour
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.MailFrom == "" {
		c.MailFrom = "birjob@localhost"
	}
	if c.VAPIDSubject == "" {
		c.VAPIDSubject = "mailto:" + c.MailFrom
	}
}

// Courier is the stage that sends pushes and mails; see the package
// documentation. Run it on any number of nodes: one at a time sends.
type Courier struct {
	pool  *pgxpool.Pool
	store *storage.Store
	cfg   Config
	log   *slog.Logger
	m     *metrics
	http  *http.Client
	smtp  *mail.Client // nil: mail goes to the outbox table
	keys  storage.CourierKeys

	leader atomic.Bool
	// now is the clock (tests move the digest hour with it).
	now func() time.Time
	// onSend, when set, is called before every push or mail is sent
	// (tests use it to kill the courier mid-burst).
	onSend func()
	// afterSend, when set, is called after each group's outcome is
	// recorded and after each step (tests wait on it).
	afterSend func()
}

// New returns a courier; call Run to start it. A bad SMTP URL is an error.
func New(pool *pgxpool.Pool, cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Courier, error) {
	cfg.defaults()
	if log == nil {
		log = slog.Default()
	}
	c := &Courier{
		pool:  pool,
		store: storage.New(pool),
		cfg:   cfg,
		log:   log.With("component", "courier"),
		m:     newMetrics(reg),
		http:  pushClient(cfg.AllowPrivate),
		now:   time.Now,
	}
	if cfg.SMTPURL != "" {
		sc, err := smtpClient(cfg.SMTPURL)
		if err != nil {
			return nil, err
		}
		c.smtp = sc
	}
	return c, nil
}

// smtpClient builds the mail client of an smtp:// or smtps:// URL.
func smtpClient(raw string) (*mail.Client, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, fmt.Errorf("BIRJOB_SMTP_URL must look like smtp://user:pass@host:587 or smtps://user:pass@host:465")
	}
	opts := []mail.Option{mail.WithTimeout(30 * time.Second)}
	port := 587
	if u.Scheme == "smtps" {
		port = 465
		opts = append(opts, mail.WithSSL())
	} else {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	if p := u.Port(); p != "" {
		if _, err := fmt.Sscan(p, &port); err != nil {
			return nil, fmt.Errorf("BIRJOB_SMTP_URL: bad port %q", p)
		}
	}
	opts = append(opts, mail.WithPort(port))
	if u.User != nil && u.User.Username() != "" {
		pass, _ := u.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(u.User.Username()), mail.WithPassword(pass))
	} else {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthNoAuth))
	}
	c, err := mail.NewClient(u.Hostname(), opts...)
	if err != nil {
		return nil, fmt.Errorf("BIRJOB_SMTP_URL: %w", err)
	}
	return c, nil
}

// Leader reports whether this node is the cluster's courier now.
func (c *Courier) Leader() bool { return c.leader.Load() }

// Run sends until ctx ends, then returns nil. A lost database connection is
// retried with backoff; the courier resumes from its cursors and queue.
func (c *Courier) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		err := c.session(ctx)
		if c.leader.Swap(false) {
			// The session had led (its LISTEN was up): a later loss is a
			// new outage, retried soon, not the tail of an earlier one.
			backoff = 100 * time.Millisecond
		}
		if ctx.Err() != nil {
			return nil
		}
		c.log.Warn("courier session ended, retrying", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Second) // as the matcher and the hub: back within a second of the database
	}
}

// session holds one connection: it listens for new events and holds the
// courier lock, and sends while both last.
func (c *Courier) session(ctx context.Context) error {
	pc, err := c.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire listen connection: %w", err)
	}
	// The connection holds a LISTEN and a session lock: never return it to
	// the pool; closing it releases both.
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	// LISTEN only once leading: a waiting node would buffer every
	// notification of the cluster unread. The first step catches up.
	if err := c.lead(ctx, conn); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{NotifyChannel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	c.leader.Store(true)
	c.log.Info("this node is the courier")
	if c.keys, err = Keys(ctx, c.store, c.cfg); err != nil {
		return err
	}
	for {
		if err := c.step(ctx); err != nil {
			return err
		}
		wait := c.cfg.PollInterval
		if due, ok, err := c.store.NextDue(ctx); err != nil {
			return err
		} else if ok {
			wait = min(wait, max(time.Until(due), time.Millisecond))
		}
		wctx, cancel := context.WithTimeout(ctx, wait)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("wait for events: %w", err)
		}
	}
}

// lead waits until this session holds the courier lock.
func (c *Courier) lead(ctx context.Context, conn *pgx.Conn) error {
	st := storage.New(conn)
	for {
		ok, err := st.TryCourierLock(ctx)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(c.cfg.PollInterval):
		}
	}
}

// step takes what is new from the log into the queue, sends what is due
// and updates the age gauge.
func (c *Courier) step(ctx context.Context) error {
	for _, kind := range []string{storage.CourierPush, storage.CourierMail} {
		if err := c.enqueueAll(ctx, kind); err != nil {
			return err
		}
	}
	if err := c.sendDue(ctx, storage.CourierPush, c.sendPush); err != nil {
		return err
	}
	for _, kind := range []string{storage.CourierMail, storage.CourierDigest} {
		if err := c.sendDue(ctx, kind, c.sendMail); err != nil {
			return err
		}
	}
	if err := c.observeAge(ctx); err != nil {
		return err
	}
	if c.afterSend != nil {
		c.afterSend()
	}
	return nil
}

// observeAge sets birjob_courier_oldest_unsent_seconds.
func (c *Courier) observeAge(ctx context.Context) error {
	oldest, err := c.store.OldestUnsent(ctx)
	if err != nil {
		return err
	}
	now := c.now()
	for _, kind := range []string{storage.CourierPush, storage.CourierMail, storage.CourierDigest} {
		age := 0.0
		if t, ok := oldest[kind]; ok {
			age = max(now.Sub(t).Seconds(), 0)
		}
		c.m.oldest.WithLabelValues(kind).Set(age)
	}
	return nil
}

// backoff is the delay before attempt n+1 after n failed ones.
func (c *Courier) backoff(attempts int) time.Duration {
	d := c.cfg.RetryBase
	for i := 1; i < attempts && d < c.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, c.cfg.RetryMax)
}
