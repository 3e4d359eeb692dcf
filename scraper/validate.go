package scraper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"
	"github.com/robfig/cron/v3"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/scraper/extract"
)

// ValidationError is a problem with a source an admin can fix; the API
// answers it with 400 and its message.
type ValidationError struct{ Msg string }

func (e *ValidationError) Error() string { return e.Msg }

func invalid(format string, args ...any) error {
	return &ValidationError{Msg: fmt.Sprintf(format, args...)}
}

// cronParser accepts 5-field specs, an optional leading seconds field, and
// descriptors (@hourly, @every 10m).
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// MinInterval is the shortest schedule interval accepted for "@every".
const MinInterval = time.Second

// Bounds on a schedule: its length in bytes, and the comma-separated
// entries of one cron field ("0,5,10,…"). A real schedule needs a few
// dozen bytes; a spec of 20,000 entries was once accepted, and every node
// would parse and hold it.
const (
	MaxScheduleLen          = 200
	MaxScheduleFieldEntries = 60
)

// ParseSchedule parses a cron spec or "@every <duration>" without
// panicking (robfig/cron panics on some malformed specs, e.g. a bare
// "CRON_TZ="). "@every" schedules are aligned to wall-clock multiples of the
// interval, so every node computes the same ticks.
func ParseSchedule(spec string) (sched cron.Schedule, err error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, invalid("schedule is required (a cron spec such as \"*/15 * * * *\" or \"@every 10m\")")
	}
	if len(spec) > MaxScheduleLen {
		return nil, invalid("schedule is %d bytes; at most %d are accepted (use ranges and steps, such as \"*/5 8-18 * * 1-5\")", len(spec), MaxScheduleLen)
	}
	for i, f := range strings.Fields(spec) {
		if n := strings.Count(f, ",") + 1; n > MaxScheduleFieldEntries {
			return nil, invalid("schedule field %d lists %d values; at most %d are accepted (use ranges and steps such as \"0-30/5\")", i+1, n, MaxScheduleFieldEntries)
		}
	}
	if strings.HasPrefix(spec, "@every") {
		d, perr := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(spec, "@every")))
		if perr != nil {
			return nil, invalid("schedule %q: %v", spec, perr)
		}
		if d < MinInterval {
			return nil, invalid("schedule %q: the interval must be at least %s", spec, MinInterval)
		}
		return alignedEvery{d.Truncate(time.Second)}, nil
	}
	for _, p := range []string{"TZ=", "CRON_TZ="} {
		if strings.HasPrefix(spec, p) {
			rest := strings.TrimPrefix(spec, p)
			i := strings.IndexAny(rest, " \t")
			if i <= 0 || strings.TrimSpace(rest[i:]) == "" {
				return nil, invalid("schedule %q: %s needs a time zone name followed by a cron spec", spec, p)
			}
			if _, lerr := time.LoadLocation(rest[:i]); lerr != nil {
				return nil, invalid("schedule %q: unknown time zone %q", spec, rest[:i])
			}
		}
	}
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, invalid("schedule %q is not a valid cron spec", spec)
		}
	}()
	sched, err = cronParser.Parse(spec)
	if err != nil {
		return nil, invalid("schedule %q: %v", spec, err)
	}
	// A spec that never fires ("0 0 30 2 *") returns the zero time.
	if sched.Next(time.Now()).IsZero() {
		return nil, invalid("schedule %q never fires", spec)
	}
	return sched, nil
}

// alignedEvery fires at every multiple of d since the Unix epoch (for d that
// divides a day: at the same wall-clock times on every node).
type alignedEvery struct{ d time.Duration }

func (a alignedEvery) Next(t time.Time) time.Time {
	next := t.Truncate(a.d).Add(a.d)
	if !next.After(t) {
		next = next.Add(a.d)
	}
	return next
}

// Selector keys of the html kind.
var htmlFields = []string{"title", "url", "company", "location", "salary", "postedAt", "description", "externalId", "employmentType", "validThrough", "remote"}

// ValidateSource checks a source an admin submitted: kind, name, URL
// scheme, schedule, the selectors its kind needs (CSS selectors must
// compile), and its settings. The error is a *ValidationError.
func ValidateSource(s model.Source) error {
	if strings.TrimSpace(s.Name) == "" {
		return invalid("name is required")
	}
	if len(s.Name) > 200 {
		return invalid("name is longer than 200 characters")
	}
	switch s.Kind {
	case model.SourceHTML, model.SourceJSONLD, model.SourceRSS, model.SourceJSON:
	case model.SourceManual:
		return invalid("kind %q is reserved for jobs posted through POST /api/jobs", s.Kind)
	case "":
		return invalid("kind is required: one of html, jsonld, rss, json")
	default:
		return invalid("kind %q is not one of html, jsonld, rss, json", s.Kind)
	}
	u, err := url.Parse(strings.TrimSpace(s.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid("url %q must be an absolute http or https URL", s.URL)
	}
	if _, err := ParseSchedule(s.Schedule); err != nil {
		return err
	}
	if _, err := ParseSettings(s.Settings); err != nil {
		return err
	}
	sel := s.Selectors
	for k, v := range sel {
		if len(v) > 1000 {
			return invalid("selector %q is longer than 1000 characters", k)
		}
	}
	switch s.Kind {
	case model.SourceHTML:
		for _, k := range []string{"item", "title", "url"} {
			if strings.TrimSpace(sel[k]) == "" {
				return invalid("html sources need the selector %q (e.g. item: \"article.job\", title: \"h2\", url: \"a@href\")", k)
			}
		}
		for _, k := range append([]string{"item", "next"}, htmlFields...) {
			if v := strings.TrimSpace(sel[k]); v != "" {
				if err := checkCSS(k, v); err != nil {
					return err
				}
			}
		}
		if d := sel["detail"]; d != "" && d != "true" && d != "false" {
			return invalid("selector \"detail\" must be \"true\" or \"false\"")
		}
	case model.SourceJSONLD:
		for _, k := range []string{"links", "next"} {
			if v := strings.TrimSpace(sel[k]); v != "" {
				if err := checkCSS(k, v); err != nil {
					return err
				}
			}
		}
	case model.SourceJSON:
		if strings.TrimSpace(sel["title"]) == "" || strings.TrimSpace(sel["url"]) == "" {
			return invalid("json sources need the paths \"title\" and \"url\" (and \"items\", the path of the array, unless the document is the array)")
		}
	}
	return nil
}

// checkCSS compiles the CSS part of a "selector@attr" value.
func checkCSS(key, v string) error {
	css, _ := extract.SplitSelector(v)
	if css == "" {
		return nil
	}
	if _, err := cascadia.ParseGroup(css); err != nil {
		return invalid("selector %q: %q is not a valid CSS selector: %v", key, css, err)
	}
	return nil
}

// Settings are per-source tuning knobs, stored as the source's "settings"
// JSON object. Zero values take the service's defaults.
type Settings struct {
	// MaxPages caps the list pages (or feed/API pages) one run follows.
	MaxPages int `json:"maxPages,omitempty"`
	// MaxDetailPages caps the detail pages one run visits.
	MaxDetailPages int `json:"maxDetailPages,omitempty"`
	// Delay is the least time between two requests of this source.
	Delay Duration `json:"delay,omitempty"`
	// Parallelism caps this source's concurrent requests.
	Parallelism int `json:"parallelism,omitempty"`
	// RequestTimeout bounds one request (headers and body).
	RequestTimeout Duration `json:"requestTimeout,omitempty"`
	// RunTimeout bounds a whole run.
	RunTimeout Duration `json:"runTimeout,omitempty"`
	// ExpireAfterMissing is N of "missing from N healthy runs in a row".
	ExpireAfterMissing int `json:"expireAfterMissing,omitempty"`
	// SuspectRatio: a run finding fewer than this share of the median of
	// the recent healthy runs is suspect (0.5 by default).
	SuspectRatio float64 `json:"suspectRatio,omitempty"`
	// MaxBodyBytes caps a response body.
	MaxBodyBytes int `json:"maxBodyBytes,omitempty"`
}

// Duration is a time.Duration written in JSON as a Go duration string
// ("500ms", "2s") or a number of milliseconds.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON accepts "1.5s" or 1500 (milliseconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return errors.New("a duration must be a string such as \"500ms\" or a number of milliseconds")
	}
	*d = Duration(ms * float64(time.Millisecond))
	return nil
}

// ParseSettings decodes and checks a source's settings.
func ParseSettings(raw json.RawMessage) (Settings, error) {
	var s Settings
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return s, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, invalid("settings: %v (known keys: maxPages, maxDetailPages, delay, parallelism, requestTimeout, runTimeout, expireAfterMissing, suspectRatio, maxBodyBytes)", err)
	}
	switch {
	case s.MaxPages < 0 || s.MaxPages > 100000:
		return s, invalid("settings.maxPages must be between 0 and 100000")
	case s.MaxDetailPages < 0 || s.MaxDetailPages > 100000:
		return s, invalid("settings.maxDetailPages must be between 0 and 100000")
	case s.Parallelism < 0 || s.Parallelism > 32:
		return s, invalid("settings.parallelism must be between 0 and 32")
	case s.Delay < 0 || time.Duration(s.Delay) > time.Minute:
		return s, invalid("settings.delay must be between 0 and 1m")
	case s.RequestTimeout < 0 || time.Duration(s.RequestTimeout) > 10*time.Minute:
		return s, invalid("settings.requestTimeout must be between 0 and 10m")
	case s.RunTimeout < 0 || time.Duration(s.RunTimeout) > 6*time.Hour:
		return s, invalid("settings.runTimeout must be between 0 and 6h")
	case s.ExpireAfterMissing < 0 || s.ExpireAfterMissing > 1000:
		return s, invalid("settings.expireAfterMissing must be between 0 and 1000")
	case s.SuspectRatio < 0 || s.SuspectRatio > 1:
		return s, invalid("settings.suspectRatio must be between 0 and 1")
	case s.MaxBodyBytes < 0 || s.MaxBodyBytes > 200<<20:
		return s, invalid("settings.maxBodyBytes must be between 0 and 200 MiB")
	}
	return s, nil
}
