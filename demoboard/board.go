package demoboard

import (
	"strconv"
	"strings"
	"time"

	"github.com/birjob/birjob/model"
)

// Defaults of Options.
const (
	// DefaultInterval makes the board lively without flooding a demo.
	DefaultInterval = 5 * time.Second
	// DefaultLifetime keeps about 120 jobs (12 pages) listed at the default
	// interval: enough to exercise pagination, few enough to read.
	DefaultLifetime = 10 * time.Minute
	// DefaultPerPage is the number of postings per list page.
	DefaultPerPage = 10
	// maxPerPage bounds PerPage.
	maxPerPage = 200
	// MaxListed bounds Lifetime/Interval, the number of postings a request
	// looks at: New shortens Lifetime to fit.
	MaxListed = 5000
)

// DefaultStart is the Start of a board whose Options leave it zero: a
// fixed instant, so that job numbers and ids go on growing across restarts
// (a restarted birjob must not meet ids it already stored with new content
// or times), and a board already lists a full Lifetime of jobs when it
// starts.
var DefaultStart = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// IDPrefix starts every posting's external id ("demo-123").
const IDPrefix = "demo-"

// baku is the board's time zone (Asia/Baku, UTC+4, no daylight saving).
var baku = time.FixedZone("AZT", 4*3600)

// Options configure a Board. The zero value of each field picks its default.
type Options struct {
	// Seed selects the content; the same seed gives the same postings.
	Seed int64
	// Interval is the time between two new postings (DefaultInterval).
	Interval time.Duration
	// Lifetime is how long a posting stays listed (DefaultLifetime), at most
	// MaxListed intervals. About one posting in five expires earlier,
	// between 20% and 70% of it.
	Lifetime time.Duration
	// Start is when posting 0 appears; zero means DefaultStart.
	Start time.Time
	// Now is the clock (time.Now).
	Now func() time.Time
	// BasePath is the prefix every link is built under, e.g. "/demo-board";
	// empty when the board is served at the root of its host.
	BasePath string
	// PerPage is the number of postings per list page (DefaultPerPage).
	PerPage int
}

// Board is the demo job board. It is an http.Handler; see the package
// documentation for its pages and how to mount it. A Board holds no mutable
// state and is safe for concurrent use.
type Board struct {
	opts Options
}

// New returns a board with opts, defaults filled in.
func New(opts Options) *Board {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Lifetime <= 0 {
		opts.Lifetime = DefaultLifetime
	}
	if opts.Lifetime/opts.Interval > MaxListed {
		opts.Lifetime = MaxListed * opts.Interval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Start.IsZero() {
		opts.Start = DefaultStart
	}
	if opts.PerPage <= 0 {
		opts.PerPage = DefaultPerPage
	}
	opts.PerPage = min(opts.PerPage, maxPerPage)
	opts.BasePath = "/" + strings.Trim(opts.BasePath, "/")
	if opts.BasePath == "/" {
		opts.BasePath = ""
	}
	return &Board{opts: opts}
}

// Options returns the board's options with defaults filled in.
func (b *Board) Options() Options { return b.opts }

// Posting is one job of the board. Everything but the times and URL is a
// pure function of (Seed, K); the times follow from Start, Interval and
// Lifetime.
type Posting struct {
	// K is the posting's number: it appears at Start + K*Interval.
	K int
	// ID is the stable external id, "demo-<K>"; it is the list item's
	// data-id and the JSON-LD identifier.
	ID string
	// URL is the detail page's path, BasePath included.
	URL      string
	Title    string
	Company  string
	Location string // RemoteLocation for fully remote postings
	Remote   bool
	// Salary is nil when the board says "negotiable". For "from N" only Min
	// is set; for a single figure Min == Max.
	Salary *model.Salary
	// SalaryText is the board's human prose, e.g. "1 500 – 2 500 ₼ / ay".
	SalaryText string
	// EmploymentType is one of the model.Employment* constants.
	EmploymentType string
	// Description is HTML (built from escaped text); Summary is its first
	// sentence as plain text, shown on list pages and in the feed.
	Description string
	Summary     string
	// Language of the title and description: "az", "en" or "ru".
	Language string
	// PostedAt is the datePosted (equal to AppearsAt, in Baku time);
	// ValidThrough equals ExpiresAt.
	PostedAt     time.Time
	ValidThrough time.Time
	// AppearsAt is when the posting is first listed; ExpiresAt when it
	// vanishes (listed while AppearsAt <= t < ExpiresAt).
	AppearsAt time.Time
	ExpiresAt time.Time
	// ExpiresEarly marks the postings that expire before Lifetime.
	ExpiresEarly bool
}

// ListedAt reports whether p is on the list pages at t.
func (p Posting) ListedAt(t time.Time) bool {
	return !t.Before(p.AppearsAt) && t.Before(p.ExpiresAt)
}

// Job returns p as the model.Job a scraper should produce from the board
// served at base (scheme and host, e.g. "http://127.0.0.1:8081").
func (p Posting) Job(base string) model.Job {
	posted, valid := p.PostedAt, p.ValidThrough
	var sal *model.Salary
	if p.Salary != nil {
		s := *p.Salary
		sal = &s
	}
	return model.Job{
		ExternalID:     p.ID,
		Title:          p.Title,
		Company:        p.Company,
		Location:       p.Location,
		Remote:         p.Remote,
		Salary:         sal,
		URL:            strings.TrimRight(base, "/") + p.URL,
		Description:    p.Description,
		EmploymentType: p.EmploymentType,
		PostedAt:       &posted,
		ValidThrough:   &valid,
	}
}

// Posting returns posting number k (k >= 0), whether or not it is listed
// now. A negative k gives the zero Posting.
func (b *Board) Posting(k int) Posting {
	if k < 0 {
		return Posting{}
	}
	r := rngFor(b.opts.Seed, k)
	p := Posting{K: k, ID: IDPrefix + strconv.Itoa(k)}
	p.URL = b.opts.BasePath + "/jobs/" + p.ID
	p.AppearsAt = b.opts.Start.Add(time.Duration(k) * b.opts.Interval).In(baku)
	// The expiry draw comes first so that it does not depend on how much
	// randomness the content consumed.
	life := b.opts.Lifetime
	if r.IntN(100) < 20 {
		p.ExpiresEarly = true
		life = life * time.Duration(20+r.IntN(51)) / 100
	}
	p.ExpiresAt = p.AppearsAt.Add(life)
	p.PostedAt, p.ValidThrough = p.AppearsAt, p.ExpiresAt
	p.fillContent(r)
	return p
}

// kRange returns the numbers of the postings that may be listed at t (or
// have expired at most one Lifetime before t), newest last; ok is false
// before posting 0 appears.
func (b *Board) kRange(t time.Time) (lo, hi int, ok bool) {
	if t.Before(b.opts.Start) {
		return 0, 0, false
	}
	iv := b.opts.Interval
	hi = int(t.Sub(b.opts.Start) / iv)
	lo = max(0, hi-int(b.opts.Lifetime/iv)-2)
	return lo, hi, true
}

// JobsAt returns the postings listed at t, newest first.
func (b *Board) JobsAt(t time.Time) []Posting {
	jobs, _ := b.listing(t)
	return jobs
}

// listing returns the postings listed at t, newest first, and the latest
// instant <= t at which that list changed (a posting appeared or expired;
// Start when nothing happened yet), in one pass over the postings.
func (b *Board) listing(t time.Time) (jobs []Posting, changed time.Time) {
	changed = b.opts.Start
	lo, hi, ok := b.kRange(t)
	if !ok {
		return nil, changed
	}
	jobs = make([]Posting, 0, hi-lo+1)
	for k := hi; k >= lo; k-- {
		p := b.Posting(k)
		if p.ListedAt(t) {
			jobs = append(jobs, p)
		}
		if p.AppearsAt.After(changed) && !p.AppearsAt.After(t) {
			changed = p.AppearsAt
		}
		if p.ExpiresAt.After(changed) && !p.ExpiresAt.After(t) {
			changed = p.ExpiresAt
		}
	}
	return jobs, changed
}

// parseID returns k of an id "demo-<k>".
func parseID(id string) (int, bool) {
	s, ok := strings.CutPrefix(id, IDPrefix)
	if !ok || s == "" || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	k, err := strconv.Atoi(s)
	if err != nil || strconv.Itoa(k) != s { // refuse "007": one id per job
		return 0, false
	}
	return k, true
}

// StartURL returns the first list page's URL on the board served at base
// (scheme and host, e.g. "http://127.0.0.1:8080"); BasePath is added.
func (b *Board) StartURL(base string) string {
	return strings.TrimRight(base, "/") + b.opts.BasePath + "/jobs"
}

// FeedURL returns the RSS feed's URL on the board served at base.
func (b *Board) FeedURL(base string) string {
	return strings.TrimRight(base, "/") + b.opts.BasePath + "/feed.rss"
}

// APIURL returns the JSON API's URL on the board served at base.
func (b *Board) APIURL(base string) string {
	return strings.TrimRight(base, "/") + b.opts.BasePath + "/api/jobs.json"
}

// SourceSelectors returns the selectors of the html source kind that fit the
// board's list pages (see the package documentation for the vocabulary).
func SourceSelectors() map[string]string {
	return map[string]string{
		"item":        "article.job",
		"title":       "h2.title a",
		"url":         "h2.title a@href",
		"company":     ".company",
		"location":    ".location",
		"salary":      ".salary",
		"postedAt":    "time.posted@datetime",
		"description": ".summary",
		"externalId":  "@data-id",
		"next":        "a.next@href",
		"detail":      "true",
	}
}

// JSONSelectors returns the selectors of the json source kind that fit
// /api/jobs.json: "items" is the dotted path to the array, the others are
// field names inside each item.
func JSONSelectors() map[string]string {
	return map[string]string{
		"items":          "data.items",
		"externalId":     "id",
		"title":          "title",
		"url":            "url",
		"company":        "company",
		"location":       "location",
		"remote":         "remote",
		"salary":         "salaryText",
		"employmentType": "employmentType",
		"postedAt":       "postedAt",
		"validThrough":   "validThrough",
		"description":    "description",
	}
}
