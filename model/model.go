// Package model holds the plain structs that pass between birjob's pipeline
// stages (scraper → storage → matcher → notify) and the JSON API. It has no
// behaviour beyond small helpers, so every stage can depend on it.
package model

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Salary is a normalised pay range. Min and Max are amounts in Currency per
// Period; either may be zero when unknown. Currency is an ISO 4217 code
// ("AZN", "USD", "EUR", "RUB", ...). Period is one of "hour", "day", "week",
// "month", "year" or "" when unknown.
type Salary struct {
	Min      float64 `json:"min,omitempty"`
	Max      float64 `json:"max,omitempty"`
	Currency string  `json:"currency,omitempty"`
	Period   string  `json:"period,omitempty"`
}

// IsZero reports whether nothing is known about the salary.
func (s *Salary) IsZero() bool {
	return s == nil || (s.Min == 0 && s.Max == 0)
}

// Job is one posting, as scraped, stored, matched and delivered. The JSON
// shape is the one of the spec: ingest needs only Title and URL.
//
// A posting listed by several sources is one job: Source and SourceID name
// its primary source (the first that listed it), Sources every source it
// was seen on.
type Job struct {
	ID             int64       `json:"id,omitempty"`
	SourceID       int64       `json:"sourceId,omitempty"`
	Source         string      `json:"source,omitempty"`
	Sources        []JobSource `json:"sources,omitempty"`
	ExternalID     string      `json:"externalId,omitempty"`
	Title          string      `json:"title"`
	Company        string      `json:"company"`
	Location       string      `json:"location"`
	Remote         bool        `json:"remote"`
	Salary         *Salary     `json:"salary,omitempty"`
	URL            string      `json:"url"`
	Description    string      `json:"description,omitempty"`
	EmploymentType string      `json:"employmentType,omitempty"`
	PostedAt       *time.Time  `json:"postedAt,omitempty"`
	ValidThrough   *time.Time  `json:"validThrough,omitempty"`
	FirstSeenAt    time.Time   `json:"firstSeenAt,omitzero"`
	ExpiredAt      *time.Time  `json:"expiredAt,omitempty"`
}

// JobSource is one source a job was seen on, with the posting's URL there.
// Live is false once the source no longer lists it.
type JobSource struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
	Live bool   `json:"live"`
}

// Employment types, normalised from schema.org and the prose of job boards.
const (
	EmploymentFullTime   = "full-time"
	EmploymentPartTime   = "part-time"
	EmploymentContract   = "contract"
	EmploymentTemporary  = "temporary"
	EmploymentInternship = "internship"
	EmploymentVolunteer  = "volunteer"
	EmploymentOther      = "other"
)

// Source kinds.
const (
	SourceHTML   = "html"
	SourceJSONLD = "jsonld"
	SourceRSS    = "rss"
	SourceJSON   = "json"
	// SourceManual is the kind of the source that POST /api/jobs ingests into.
	SourceManual = "manual"
)

// Source is a job board (or feed, or API) that birjob scrapes on a schedule.
type Source struct {
	ID            int64             `json:"id,omitempty"`
	Name          string            `json:"name"`
	Kind          string            `json:"kind"`
	URL           string            `json:"url"`
	Schedule      string            `json:"schedule"`
	Enabled       bool              `json:"enabled"`
	Selectors     map[string]string `json:"selectors,omitempty"`
	RespectRobots bool              `json:"respectRobots"`
	// Settings holds per-source tuning (rate limits, page limits, expiry
	// thresholds); its keys are documented by the scraper package.
	Settings  json.RawMessage `json:"settings,omitempty"`
	CreatedAt time.Time       `json:"createdAt,omitzero"`
	UpdatedAt time.Time       `json:"updatedAt,omitzero"`
}

// SalaryMin is an alert's minimum salary; see the matcher package for how
// currencies and periods are made comparable.
type SalaryMin struct {
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency,omitempty"`
	Period   string  `json:"period,omitempty"`
}

// Criteria is what an alert (or a public feed) looks for. Empty fields match
// everything.
type Criteria struct {
	Query            string     `json:"query,omitempty"`
	Location         string     `json:"location,omitempty"`
	Remote           *bool      `json:"remote,omitempty"`
	SalaryMin        *SalaryMin `json:"salaryMin,omitempty"`
	EmploymentTypes  []string   `json:"employmentTypes,omitempty"`
	Companies        []string   `json:"companies,omitempty"`
	ExcludeCompanies []string   `json:"excludeCompanies,omitempty"`
	Sources          []string   `json:"sources,omitempty"`
}

// Alert is a user's saved criteria.
type Alert struct {
	ID     int64  `json:"id,omitempty"`
	UserID int64  `json:"userId,omitempty"`
	Name   string `json:"name"`
	Criteria
	Paused bool `json:"paused"`
	// Muted keeps an alert matching (its matches are listed and reach the
	// page live) but silent: no toast, browser notification, push or mail.
	Muted bool `json:"muted"`
	// Email is when matches are mailed: EmailOff (the default), EmailInstant
	// or EmailDaily.
	Email     string    `json:"email,omitempty"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}

// An alert's email modes.
const (
	EmailOff     = "off"
	EmailInstant = "instant"
	EmailDaily   = "daily"
)

// CheckEmailMode says what is wrong with an alert's email mode, or returns
// nil; "" stands for EmailOff.
func CheckEmailMode(m string) error {
	switch m {
	case "", EmailOff, EmailInstant, EmailDaily:
		return nil
	}
	return fmt.Errorf("email must be %q, %q or %q, got %q", EmailOff, EmailInstant, EmailDaily, m)
}

// Feed is a public channel an admin defined with criteria; its Name is the
// channel name clients subscribe to.
type Feed struct {
	ID    int64  `json:"id,omitempty"`
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
	Criteria
	CreatedAt time.Time `json:"createdAt,omitzero"`
}

// Event types.
const (
	EventNewJob     = "new-job"
	EventJobExpired = "job-expired"
	EventReset      = "reset"
	EventConnected  = "connected"
)

// Channel names. A user's own channel is stored as UserChannel(id) and
// subscribed to as "me".
const (
	ChannelJobs = "jobs"
	ChannelMe   = "me"
)

// feedName is the shape of a public feed's name. It never contains ':', so
// no name a client can send maps to a user's channel ("user:<id>").
var feedName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidFeedName says why name cannot be a public feed's channel name, or
// returns nil: 1-63 lowercase letters, digits, '-' or '_', starting with a
// letter or digit, and neither "jobs" nor "me". The API checks it when a
// feed is created and the streams before they look a feed up, so both
// follow the one rule.
func ValidFeedName(name string) error {
	if !feedName.MatchString(name) {
		return fmt.Errorf("feed name %q must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit", name)
	}
	if name == ChannelJobs || name == ChannelMe {
		return fmt.Errorf("feed name %q is reserved", name)
	}
	return nil
}

// UserChannel is the stored channel name of a user's personal events.
func UserChannel(userID int64) string {
	return "user:" + strconv.FormatInt(userID, 10)
}

// Event is one row of the event log. Data is the JSON payload as stored.
type Event struct {
	ID        int64           `json:"id,string"`
	Channel   string          `json:"-"`
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"-"`
}

// JobEvent is the data of a new-job or job-expired event: the job plus, on a
// user's channel, the ids of the alerts that matched it.
type JobEvent struct {
	Job
	Alerts []int64 `json:"alerts,omitempty"`
}
