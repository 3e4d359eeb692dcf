// Package config reads birjob's configuration: environment variables
// (DATABASE_URL and BIRJOB_*) overridden by matching command-line flags, with
// defaults in code. The names are part of the contract (see the README's
// table); Print shows the effective configuration without secrets.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Defaults, and why.
const (
	// DefaultAddr is the listen address of the web server.
	DefaultAddr = ":8080"
	// DefaultDataDir holds the embedded cluster and other local state, under
	// the working directory so a newcomer finds it.
	DefaultDataDir = "data"
	// DefaultKeepalive is below the 30 s idle timeout of common proxies.
	DefaultKeepalive = 25 * time.Second
	// DefaultRetention keeps a week of events for clients to resume from.
	DefaultRetention = 7 * 24 * time.Hour
	// DefaultShutdownTimeout bounds a graceful stop.
	DefaultShutdownTimeout = 20 * time.Second
	// DefaultExpireAfterMissing is how many healthy runs in a row must miss
	// a job before it counts as expired.
	DefaultExpireAfterMissing = 2
	// DefaultBacklogMaxAge: in a source's first run (or its first after
	// being re-enabled) a posting dated within two days is still news and
	// alerts people; older ones are only listed.
	DefaultBacklogMaxAge = 48 * time.Hour
	// DefaultPauseAfterFailures: ten failed runs in a row is a source that
	// needs a person (the admin page shows why, and enabling resumes it).
	DefaultPauseAfterFailures = 10
	// DefaultDigestHour is when the daily digest mail goes out, in each
	// user's time zone: before the working day starts.
	DefaultDigestHour = 8
)

// Demo modes.
const (
	DemoAuto = "auto" // on when no source is configured yet
	DemoOn   = "on"
	DemoOff  = "off"
)

// Config is the whole configuration of one birjob process.
type Config struct {
	DatabaseURL     string
	Addr            string
	DataDir         string
	Demo            string
	AdminEmail      string
	AdminPassword   string
	Keepalive       time.Duration
	Retention       time.Duration
	ShutdownTimeout time.Duration
	// Roles; each can be switched off so that a deployment can run many web
	// nodes and scrape/match on some of them.
	Web     bool
	Scrape  bool
	Match   bool
	LogJSON bool
	Debug   bool
	// AllowPrivate lets sources point at loopback and private addresses:
	// "true" all of them; "auto" (the default) only the demo board's own
	// address, in demo mode; "false" none, not even the demo board's.
	AllowPrivate       string // "auto", "true", "false"
	ExpireAfterMissing int
	// BacklogMaxAge is how old a dated posting of a source's backlog run
	// may be and still alert people.
	BacklogMaxAge  time.Duration
	AllowedOrigins []string
	Node           string
	// PauseAfterFailures disables a source after this many failed runs in
	// a row (0: never).
	PauseAfterFailures int
	// MaxStreams caps the open streams (SSE, WebSocket, long polls) of a
	// node; past it a new one is answered 503 with Retry-After. 0: from
	// the open-file limit (notify.DefaultMaxStreams); -1: no cap.
	MaxStreams int
	// Courier is the role that sends alerts by Web Push and mail (once
	// cluster-wide, whatever the number of nodes with the role).
	Courier bool
	// PublicURL is birjob's address as people reach it, for the links in
	// pushes and mails; empty: this node's own address.
	PublicURL string
	// VAPID key pair of Web Push (base64url); empty: one generated once
	// and kept in the database.
	VAPIDPublicKey, VAPIDPrivateKey string
	// VAPIDSubject is the contact the push services see (mailto: or https:).
	VAPIDSubject string
	// SMTPURL is the mail server (smtp:// or smtps://, with user and
	// password); empty: mail is kept in the outbox the admin reads.
	SMTPURL    string
	MailFrom   string
	DigestHour int
	// RequireEmailVerification makes an account confirm its address (the
	// link of the mail sent at signup) before it may create or change
	// alerts and push subscriptions; it may sign in and read before.
	RequireEmailVerification bool
	// TrustedProxies are the networks of the reverse proxies whose
	// Forwarded / X-Forwarded-For / X-Forwarded-Proto headers are believed
	// (the client's address and scheme); empty: none.
	TrustedProxies []netip.Prefix
	// MetricsAllow are the networks /metrics is served to without an
	// admin's token.
	MetricsAllow []netip.Prefix
}

// DefaultMetricsAllow: loopback and the private networks, where a
// Prometheus scraping the nodes directly lives (the compose file's does);
// a client coming through a trusted proxy is judged by its own address.
var DefaultMetricsAllow = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("fc00::/7"),
}

// DefaultMetricsAllowString is DefaultMetricsAllow as the setting spells it.
func DefaultMetricsAllowString() string {
	var parts []string
	for _, n := range DefaultMetricsAllow {
		parts = append(parts, n.String())
	}
	return strings.Join(parts, ",")
}

// ParseCIDRs reads a comma-separated list of networks ("10.0.0.0/8,
// fd00::/8"); a bare address is a network of one. "none" is the empty
// list.
func ParseCIDRs(v string) ([]netip.Prefix, error) {
	out := []netip.Prefix{}
	if strings.TrimSpace(v) == "none" {
		return out, nil
	}
	for _, p := range splitList(v) {
		if pre, err := netip.ParsePrefix(p); err == nil {
			out = append(out, pre.Masked())
			continue
		}
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("%q is not a network like 10.0.0.0/8 or an address", p)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func cidrs(p func(*Config) *[]netip.Prefix) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			n, err := ParseCIDRs(v)
			if err != nil {
				return err
			}
			*p(c) = n
			return nil
		},
		func(c *Config) string {
			var parts []string
			for _, n := range *p(c) {
				parts = append(parts, n.String())
			}
			if len(parts) == 0 {
				return "none"
			}
			return strings.Join(parts, ",")
		}
}

type setting struct {
	env, flag, usage string
	secret           bool
	bind             func(c *Config, v string) error
	show             func(c *Config) string
}

func str(p func(*Config) *string) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error { *p(c) = v; return nil },
		func(c *Config) string { return *p(c) }
}

func dur(p func(*Config) *time.Duration) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("not a duration like 25s or 1h: %q", v)
			}
			if d <= 0 {
				return fmt.Errorf("must be positive, got %s", v)
			}
			*p(c) = d
			return nil
		},
		func(c *Config) string { return p(c).String() }
}

func boolean(p func(*Config) *bool) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("not true or false: %q", v)
			}
			*p(c) = b
			return nil
		},
		func(c *Config) string { return strconv.FormatBool(*p(c)) }
}

// whole binds a whole number within [lo, hi]; what says which in errors.
func whole(p func(*Config) *int, lo, hi int, what string) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < lo || n > hi {
				return fmt.Errorf("must be %s, got %q", what, v)
			}
			*p(c) = n
			return nil
		},
		func(c *Config) string { return strconv.Itoa(*p(c)) }
}

func settings() []setting {
	mk := func(env, fl, usage string, secret bool, b func(*Config, string) error, s func(*Config) string) setting {
		return setting{env: env, flag: fl, usage: usage, secret: secret, bind: b, show: s}
	}
	var out []setting
	add := func(s setting) { out = append(out, s) }
	b, s := str(func(c *Config) *string { return &c.DatabaseURL })
	add(mk("DATABASE_URL", "database-url", "PostgreSQL URL; empty: run an embedded cluster under the data dir", true, b, s))
	b, s = str(func(c *Config) *string { return &c.Addr })
	add(mk("BIRJOB_ADDR", "addr", "listen address of the web server", false, b, s))
	b, s = str(func(c *Config) *string { return &c.DataDir })
	add(mk("BIRJOB_DATA_DIR", "data-dir", "where the embedded cluster and other local state live", false, b, s))
	b, s = str(func(c *Config) *string { return &c.Demo })
	add(mk("BIRJOB_DEMO", "demo", "demo job board: auto (when no source exists yet), on, off", false, b, s))
	b, s = str(func(c *Config) *string { return &c.AdminEmail })
	add(mk("BIRJOB_ADMIN_EMAIL", "admin-email", "create or update this admin at start", false, b, s))
	b, s = str(func(c *Config) *string { return &c.AdminPassword })
	add(mk("BIRJOB_ADMIN_PASSWORD", "admin-password", "password of that admin", true, b, s))
	b, s = dur(func(c *Config) *time.Duration { return &c.Keepalive })
	add(mk("BIRJOB_KEEPALIVE", "keepalive", "stream keepalive interval", false, b, s))
	b, s = dur(func(c *Config) *time.Duration { return &c.Retention })
	add(mk("BIRJOB_RETENTION", "retention", "how long events are kept for resuming clients", false, b, s))
	b, s = dur(func(c *Config) *time.Duration { return &c.ShutdownTimeout })
	add(mk("BIRJOB_SHUTDOWN_TIMEOUT", "shutdown-timeout", "bound on a graceful stop", false, b, s))
	b, s = boolean(func(c *Config) *bool { return &c.Web })
	add(mk("BIRJOB_WEB", "web", "role: serve the web page, API and streams", false, b, s))
	b, s = boolean(func(c *Config) *bool { return &c.Scrape })
	add(mk("BIRJOB_SCRAPE", "scrape", "role: run the source scheduler and scrapers", false, b, s))
	b, s = boolean(func(c *Config) *bool { return &c.Match })
	add(mk("BIRJOB_MATCH", "match", "role: run the matcher", false, b, s))
	b, s = str(func(c *Config) *string { return &c.AllowPrivate })
	add(mk("BIRJOB_ALLOW_PRIVATE", "allow-private", "let sources fetch loopback/private addresses: auto (only the demo board's own address, in demo mode), true, false", false, b, s))
	add(mk("BIRJOB_EXPIRE_AFTER_MISSING", "expire-after-missing", "healthy runs in a row a job must be missing from before it expires", false,
		func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return fmt.Errorf("must be a whole number ≥ 1, got %q", v)
			}
			c.ExpireAfterMissing = n
			return nil
		},
		func(c *Config) string { return strconv.Itoa(c.ExpireAfterMissing) }))
	b, s = dur(func(c *Config) *time.Duration { return &c.BacklogMaxAge })
	add(mk("BIRJOB_BACKLOG_MAX_AGE", "backlog-max-age", "in a source's first run (or first after re-enabling), alert only postings dated within this age (or undated and new to birjob)", false, b, s))
	add(mk("BIRJOB_PAUSE_AFTER_FAILURES", "pause-after-failures", "failed runs in a row after which a source is paused (disabled, with the reason); 0: never", false,
		func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("must be a whole number ≥ 0, got %q", v)
			}
			c.PauseAfterFailures = n
			return nil
		},
		func(c *Config) string { return strconv.Itoa(c.PauseAfterFailures) }))
	b, s = whole(func(c *Config) *int { return &c.MaxStreams }, -1, math.MaxInt, "a whole number ≥ -1 (0: from the open-file limit, -1: no cap)")
	add(mk("BIRJOB_MAX_STREAMS", "max-streams", "open streams a node holds before answering new ones 503 (0: the open-file limit less a reserve; -1: no cap)", false, b, s))
	add(mk("BIRJOB_ALLOWED_ORIGINS", "allowed-origins", "extra origins (comma-separated) allowed to open WebSockets", false,
		func(c *Config, v string) error { c.AllowedOrigins = splitList(v); return nil },
		func(c *Config) string { return strings.Join(c.AllowedOrigins, ",") }))
	b, s = boolean(func(c *Config) *bool { return &c.Courier })
	add(mk("BIRJOB_COURIER", "courier", "role: send alerts by Web Push and mail (one node at a time does)", false, b, s))
	b, s = str(func(c *Config) *string { return &c.PublicURL })
	add(mk("BIRJOB_PUBLIC_URL", "public-url", "birjob's address as people reach it, for links in pushes and mails (default: this node's)", false, b, s))
	b, s = str(func(c *Config) *string { return &c.VAPIDPublicKey })
	add(mk("BIRJOB_VAPID_PUBLIC_KEY", "vapid-public-key", "Web Push VAPID public key, base64url (default: generated once, kept in the database)", false, b, s))
	b, s = str(func(c *Config) *string { return &c.VAPIDPrivateKey })
	add(mk("BIRJOB_VAPID_PRIVATE_KEY", "vapid-private-key", "Web Push VAPID private key, base64url", true, b, s))
	b, s = str(func(c *Config) *string { return &c.VAPIDSubject })
	add(mk("BIRJOB_VAPID_SUBJECT", "vapid-subject", "contact the push services see: mailto:… or https://… (default: mailto: the mail sender)", false, b, s))
	b, s = str(func(c *Config) *string { return &c.SMTPURL })
	add(mk("BIRJOB_SMTP_URL", "smtp-url", "mail server: smtp://user:pass@host:587 (STARTTLS) or smtps://…:465; empty: keep mail in the admin's outbox", true, b, s))
	b, s = str(func(c *Config) *string { return &c.MailFrom })
	add(mk("BIRJOB_MAIL_FROM", "mail-from", "From address of alert mails", false, b, s))
	b, s = boolean(func(c *Config) *bool { return &c.RequireEmailVerification })
	add(mk("BIRJOB_REQUIRE_EMAIL_VERIFICATION", "require-email-verification", "accounts must confirm their address before creating or changing alerts and push subscriptions", false, b, s))
	b, s = whole(func(c *Config) *int { return &c.DigestHour }, 0, 23, "an hour 0-23")
	add(mk("BIRJOB_DIGEST_HOUR", "digest-hour", "hour (0-23) of each user's day the daily digest goes out", false, b, s))
	b, s = cidrs(func(c *Config) *[]netip.Prefix { return &c.TrustedProxies })
	add(mk("BIRJOB_TRUSTED_PROXIES", "trusted-proxies", "networks (CIDRs, comma-separated) of reverse proxies whose Forwarded/X-Forwarded-* headers give the client's address and scheme", false, b, s))
	b, s = cidrs(func(c *Config) *[]netip.Prefix { return &c.MetricsAllow })
	add(mk("BIRJOB_METRICS_ALLOW", "metrics-allow", "networks (CIDRs) /metrics is served to without an admin's bearer token; none: admins only", false, b, s))
	b, s = str(func(c *Config) *string { return &c.Node })
	add(mk("BIRJOB_NODE", "node", "name of this node in logs and scrape runs (default: host name)", false, b, s))
	b, s = boolean(func(c *Config) *bool { return &c.LogJSON })
	add(mk("BIRJOB_LOG_JSON", "log-json", "log as JSON lines", false, b, s))
	b, s = boolean(func(c *Config) *bool { return &c.Debug })
	add(mk("BIRJOB_DEBUG", "debug", "debug logging", false, b, s))
	return out
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Default returns the configuration with every default applied.
func Default() Config {
	host, _ := os.Hostname()
	return Config{
		Addr:               DefaultAddr,
		DataDir:            DefaultDataDir,
		Demo:               DemoAuto,
		Keepalive:          DefaultKeepalive,
		Retention:          DefaultRetention,
		ShutdownTimeout:    DefaultShutdownTimeout,
		Web:                true,
		Scrape:             true,
		Match:              true,
		Courier:            true,
		DigestHour:         DefaultDigestHour,
		AllowPrivate:       "auto",
		ExpireAfterMissing: DefaultExpireAfterMissing,
		BacklogMaxAge:      DefaultBacklogMaxAge,
		PauseAfterFailures: DefaultPauseAfterFailures,
		Node:               host,
		MetricsAllow:       DefaultMetricsAllow,
	}
}

// Load reads the environment (through getenv) and then args (flags without
// the program name). It returns the remaining non-flag arguments.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, []string, error) {
	c := Default()
	all := settings()
	for _, s := range all {
		if v := getenv(s.env); v != "" {
			if err := s.bind(&c, v); err != nil {
				return c, nil, fmt.Errorf("%s: %w", s.env, err)
			}
		}
	}
	fs := flag.NewFlagSet("birjob", flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, s := range all {
		fs.Func(s.flag, s.usage+" ($"+s.env+")", func(v string) error { return s.bind(&c, v) })
	}
	if err := fs.Parse(args); err != nil {
		return c, nil, err
	}
	if err := c.Validate(); err != nil {
		return c, nil, err
	}
	return c, fs.Args(), nil
}

// Validate checks the values that flags and the environment cannot check on
// their own.
func (c *Config) Validate() error {
	var errs []error
	switch c.Demo {
	case DemoAuto, DemoOn, DemoOff:
	default:
		errs = append(errs, fmt.Errorf("BIRJOB_DEMO must be auto, on or off, got %q", c.Demo))
	}
	switch c.AllowPrivate {
	case "auto", "true", "false":
	default:
		errs = append(errs, fmt.Errorf("BIRJOB_ALLOW_PRIVATE must be auto, true or false, got %q", c.AllowPrivate))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("BIRJOB_ADDR must be host:port or :port, got %q", c.Addr))
	}
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			if !strings.Contains(c.DatabaseURL, "=") { // key=value DSNs are fine too
				errs = append(errs, errors.New("DATABASE_URL must be a postgres:// URL or a key=value connection string"))
			}
		}
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		errs = append(errs, errors.New("set both BIRJOB_ADMIN_EMAIL and BIRJOB_ADMIN_PASSWORD, or neither"))
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 8 {
		errs = append(errs, errors.New("BIRJOB_ADMIN_PASSWORD must have at least 8 characters"))
	}
	errs = append(errs, c.validateCourier()...)
	return errors.Join(errs...)
}

// Print writes the effective configuration, secrets masked, one
// `NAME=value` line per setting.
func (c *Config) Print(w io.Writer) {
	for _, s := range settings() {
		v := s.show(c)
		if s.secret && v != "" {
			v = redact(s.env, v)
		}
		fmt.Fprintf(w, "%s=%s\n", s.env, v)
	}
}

func redact(name, v string) string {
	if name == "DATABASE_URL" {
		if u, err := url.Parse(v); err == nil && u.Scheme != "" {
			if _, has := u.User.Password(); has {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
			}
			return u.String()
		}
		return "(set)"
	}
	return "(set)"
}

// Usage writes the flag help.
func Usage(w io.Writer) {
	fmt.Fprintln(w, "Settings (environment variable, or flag):")
	for _, s := range settings() {
		fmt.Fprintf(w, "  -%-22s $%-28s %s\n", s.flag, s.env, s.usage)
	}
}

// validateCourier checks the settings of the courier role.
func (c *Config) validateCourier() []error {
	var errs []error
	if (c.VAPIDPublicKey == "") != (c.VAPIDPrivateKey == "") {
		errs = append(errs, errors.New("set both BIRJOB_VAPID_PUBLIC_KEY and BIRJOB_VAPID_PRIVATE_KEY, or neither"))
	}
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			errs = append(errs, errors.New("BIRJOB_SMTP_URL must look like smtp://user:pass@host:587 or smtps://user:pass@host:465"))
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("BIRJOB_PUBLIC_URL must be an http(s) URL like https://birjob.example, got %q", c.PublicURL))
		}
	}
	if c.VAPIDSubject != "" && !strings.HasPrefix(c.VAPIDSubject, "mailto:") && !strings.HasPrefix(c.VAPIDSubject, "https:") {
		errs = append(errs, fmt.Errorf("BIRJOB_VAPID_SUBJECT must start with mailto: or https:, got %q", c.VAPIDSubject))
	}
	return errs
}
