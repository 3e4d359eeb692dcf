package scraper

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/storage"
)

// Defaults of Config; each says why.
const (
	// DefaultUserAgent identifies birjob to the boards it reads.
	DefaultUserAgent = "birjob/1.0 (+https://github.com/birjob/birjob; job-alert bot)"
	// DefaultExpireAfterMissing: one missed run can be a board's hiccup,
	// two in a row rarely is.
	DefaultExpireAfterMissing = 2
	// DefaultRequestTimeout bounds one request, headers and body.
	DefaultRequestTimeout = 20 * time.Second
	// DefaultRunTimeout bounds a run; a run never outlives it even when
	// colly's Wait would hang.
	DefaultRunTimeout = 5 * time.Minute
	// DefaultMaxBodyBytes: job list pages are rarely above 1 MiB.
	DefaultMaxBodyBytes = 5 << 20
	// DefaultMaxPages caps list pages per run (a board whose "next" link
	// never ends cannot keep a run busy forever).
	DefaultMaxPages = 50
	// DefaultMaxDetailPages caps the detail pages per run.
	DefaultMaxDetailPages = 1000
	// DefaultDomainInterval is the least time between two requests to one
	// host across all runs of this node.
	DefaultDomainInterval = 250 * time.Millisecond
	// DefaultDomainParallelism caps concurrent requests to one host.
	DefaultDomainParallelism = 2
	// DefaultSuspectRatio: a run finding less than half the usual count is
	// more likely a broken page than a mass expiry.
	DefaultSuspectRatio = 0.5
	// DefaultReloadInterval is how often the scheduler reloads sources even
	// without a notification (a safety net for a lost LISTEN connection).
	DefaultReloadInterval = 30 * time.Second
	// DefaultPreviewPages caps the list pages a preview fetches.
	DefaultPreviewPages = 3
	// DefaultPreviewDetailPages caps the detail pages a preview fetches.
	DefaultPreviewDetailPages = 20
	// DefaultBacklogMaxAge: a posting dated within two days is still news
	// to someone who saved an alert for it, even when the source is new.
	DefaultBacklogMaxAge = 48 * time.Hour
	// DefaultIdentityWindow: a posting with the title, company and place of
	// a job seen within a month is that job; later, a re-posting is news.
	DefaultIdentityWindow = 30 * 24 * time.Hour
	// DefaultURLChecksPerRun bounds the job pages a run asks whether they
	// still exist (sources without detail pages), so a big source costs its
	// board a few requests per run, not thousands.
	DefaultURLChecksPerRun = 20
	// DefaultURLCheckInterval: a job page is asked at most hourly, and not
	// in its first hour (the source has just listed it).
	DefaultURLCheckInterval = time.Hour
	// DefaultBackoffBase is the first pause of a host after a failure; it
	// doubles with each failure in a row.
	DefaultBackoffBase = 2 * time.Second
	// DefaultBackoffMax caps the exponential back-off: a host down for a
	// day is still tried every hour or so.
	DefaultBackoffMax = time.Hour
	// DefaultMaxRetryAfter caps a Retry-After: a board asking for a week's
	// silence is asked again after a day.
	DefaultMaxRetryAfter = 24 * time.Hour
	// DefaultMaxBackoffWait: a request waits out a pause this short (a
	// transient 503 in the middle of a run); a longer pause refuses the
	// request, and a run whose board is paused longer makes no request.
	DefaultMaxBackoffWait = 10 * time.Second
	// DefaultPauseAfterFailures: ten failed runs in a row is a source that
	// needs a person, not another ten tries.
	DefaultPauseAfterFailures = 10
	// DefaultRunLease is how long a node holds a source for a run without
	// renewing the lease (it renews every third of it): a node that crashes
	// mid-run blocks the source for at most this long.
	DefaultRunLease = time.Minute
)

// Config configures the scraper stage. Zero values take the Default*
// constants.
type Config struct {
	// AllowPrivate permits fetching loopback, private, link-local and
	// unspecified addresses. Keep it false in production (a source URL or
	// a redirect could otherwise reach internal services); demo mode and
	// tests turn it on.
	AllowPrivate bool
	// AllowAddrs are exact ip:port addresses fetched even without
	// AllowPrivate: the demo board this node serves ("127.0.0.1:8080"),
	// and not the rest of its range.
	AllowAddrs []string
	// UserAgent is sent with every request and matched against robots.txt.
	UserAgent string
	// Node names this node in run records (hostname by default).
	Node string
	// ExpireAfterMissing is the default N of "missing from N healthy runs".
	ExpireAfterMissing int
	RequestTimeout     time.Duration
	RunTimeout         time.Duration
	MaxBodyBytes       int
	MaxPages           int
	MaxDetailPages     int
	// DomainInterval and DomainParallelism limit this node's requests to
	// each host, across all sources.
	DomainInterval    time.Duration
	DomainParallelism int
	SuspectRatio      float64
	ReloadInterval    time.Duration
	// BacklogMaxAge is how old a dated posting may be and still be news in
	// a source's backlog run (see the package doc, "Backlog").
	BacklogMaxAge time.Duration
	// IdentityWindow is how recently a job must have been seen for a
	// posting of another source to be found as that job.
	IdentityWindow time.Duration
	// URLChecksPerRun caps the job URLs a healthy run checks for 404/410
	// (negative: none).
	URLChecksPerRun int
	// URLCheckInterval is how often at most one job URL is checked.
	URLCheckInterval time.Duration
	// Back-off of a failing host (see the package doc): exponential from
	// BackoffBase up to BackoffMax, Retry-After honoured up to
	// MaxRetryAfter, pauses up to MaxBackoffWait waited out.
	BackoffBase    time.Duration
	BackoffMax     time.Duration
	MaxRetryAfter  time.Duration
	MaxBackoffWait time.Duration
	// PauseAfterFailures disables a source after this many failed runs in a
	// row (0: DefaultPauseAfterFailures; negative: never).
	PauseAfterFailures int
	// RunLease is how long a run holds its source without renewal.
	RunLease time.Duration
}

func (c Config) withDefaults() Config {
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.Node == "" {
		c.Node, _ = os.Hostname()
	}
	if c.ExpireAfterMissing <= 0 {
		c.ExpireAfterMissing = DefaultExpireAfterMissing
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.RunTimeout <= 0 {
		c.RunTimeout = DefaultRunTimeout
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxPages <= 0 {
		c.MaxPages = DefaultMaxPages
	}
	if c.MaxDetailPages <= 0 {
		c.MaxDetailPages = DefaultMaxDetailPages
	}
	if c.DomainInterval < 0 {
		c.DomainInterval = 0
	} else if c.DomainInterval == 0 {
		c.DomainInterval = DefaultDomainInterval
	}
	if c.DomainParallelism <= 0 {
		c.DomainParallelism = DefaultDomainParallelism
	}
	if c.SuspectRatio <= 0 {
		c.SuspectRatio = DefaultSuspectRatio
	}
	if c.ReloadInterval <= 0 {
		c.ReloadInterval = DefaultReloadInterval
	}
	if c.BacklogMaxAge <= 0 {
		c.BacklogMaxAge = DefaultBacklogMaxAge
	}
	if c.IdentityWindow <= 0 {
		c.IdentityWindow = DefaultIdentityWindow
	}
	if c.URLChecksPerRun == 0 {
		c.URLChecksPerRun = DefaultURLChecksPerRun
	}
	if c.URLCheckInterval <= 0 {
		c.URLCheckInterval = DefaultURLCheckInterval
	}
	c.BackoffBase = orDefault(c.BackoffBase, DefaultBackoffBase)
	c.BackoffMax = orDefault(c.BackoffMax, DefaultBackoffMax)
	c.MaxRetryAfter = orDefault(c.MaxRetryAfter, DefaultMaxRetryAfter)
	c.MaxBackoffWait = orDefault(c.MaxBackoffWait, DefaultMaxBackoffWait)
	c.RunLease = orDefault(c.RunLease, DefaultRunLease)
	if c.PauseAfterFailures == 0 {
		c.PauseAfterFailures = DefaultPauseAfterFailures
	}
	return c
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Service is the scraper stage: source writes, runs, ingest and the
// scheduler. It serves no HTTP: package api calls it.
type Service struct {
	pool  *pgxpool.Pool // for LISTEN
	store *storage.Store
	cfg   Config
	log   *slog.Logger
	host  *hostLimiter

	// running guards against two runs of one source on this node (a
	// scheduled tick and "run now").
	mu      sync.Mutex
	running map[int64]bool
	ctx     context.Context // Run's context, for runs started by hand

	// afterReload, when set (tests), is called after each scheduler reload
	// with the number of scheduled sources.
	afterReload func(scheduled int)

	transportOnce sync.Once
	base          http.RoundTripper

	metrics *metrics
}

// NewService returns the scraper stage on pool. log may be nil.
func NewService(pool *pgxpool.Pool, cfg Config, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	cfg = cfg.withDefaults()
	return &Service{
		pool:    pool,
		store:   storage.New(pool),
		cfg:     cfg,
		log:     log,
		host:    newHostLimiter(0, cfg.DomainParallelism), // the spacing is cluster-wide: host_state
		metrics: newMetrics(),
		running: map[int64]bool{},
	}
}

// Config returns the effective configuration (defaults applied).
func (s *Service) Config() Config { return s.cfg }
