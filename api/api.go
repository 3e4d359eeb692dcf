// Package api serves the JSON API that the page and scripts use: alerts
// (alerts.go), public feeds (feeds.go), the job list with its filters,
// one job, a user's saved and hidden jobs, and job ingest (jobs.go),
// sources with their preview, runs and "run now" (sources.go),
// accounts: signup, login, logout, me, tokens (accounts.go), verification,
// password reset and change, deletion (account_flows.go), sessions and
// tokens listed and revoked (account_sessions.go), publishing an
// event (publish.go), the admin's stage counters (stats.go), and push
// subscriptions, the digest's time zone, mail unsubscribe and the mail
// outbox (notifications.go). Streams are served by package notify; the app
// wires both onto one mux.
//
// The handlers read and write through package storage; where the pipeline
// decides something (a source's validity, a job's cleaning and dedupe, a
// run), they call the scraper stage.
//
// # Conventions
//
// Errors are {"error": "..."} with a fitting 4xx status and a message a
// person can act on. A create or read answers with the object itself, id
// included. PUT changes the fields the body carries and keeps the others, so
// {"paused": true} pauses an alert.
//
// Alert and feed bodies are strict (httpx.DecodeObject): `null`, a
// non-object or a field the resource does not have (a typo, or a wrapper
// such as {"criteria": {...}}) is a 400 naming it, never read as "no
// criteria". An alert or feed must also narrow the jobs it matches: see
// narrows in narrow.go for the rule (a positive query term, or a location,
// remote, salary, employment type, company or source).
package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/scraper"
	"github.com/birjob/birjob/storage"
)

// Limits on what one user can store.
const (
	MaxAlertsPerUser = 100
	maxListLen       = 50
	maxFieldLen      = 500
)

// Server is the JSON API.
type Server struct {
	store *storage.Store
	// scraper serves the source routes and POST /api/jobs (nil: those
	// routes are not registered).
	scraper *scraper.Service
	// auth is the account system, for the account routes (nil: they are
	// not registered).
	auth *auth.Service
	// hub is this node's notification hub, for POST /api/publish (nil:
	// the route is not registered).
	hub Hub
	// stats are the stage counters GET /api/admin/stats reports, by name.
	stats map[string]func() any
	// validate checks criteria (the matcher's query language); its error
	// message reaches the client with a 400.
	validate func(model.Criteria) error
	// search compiles GET /api/jobs?q= into a job predicate (nil: the
	// words of q must appear in title, company or location, compared by
	// the database).
	search func(q string) (func(*model.Job) bool, error)
	notif  *notifications // push and mail routes (notifications.go)
	// mailer sends the account mails (nil: none); requireVerification
	// holds unconfirmed accounts back from alerts (accounts.go).
	mailer              AccountMailer
	requireVerification bool
}

// WithSearch makes GET /api/jobs?q= use compile (the matcher's query
// language, so that a search shows what an alert with that query would
// match); its error message reaches the client with a 400.
func (s *Server) WithSearch(compile func(q string) (func(*model.Job) bool, error)) *Server {
	s.search = compile
	return s
}

// WithScraper serves the source routes (CRUD, preview, run now, runs) and
// POST /api/jobs with the scraper stage sc.
func (s *Server) WithScraper(sc *scraper.Service) *Server {
	s.scraper = sc
	return s
}

// WithAuth serves the account API (signup, login, logout, me, tokens)
// with the account system svc.
func (s *Server) WithAuth(svc *auth.Service) *Server {
	s.auth = svc
	return s
}

// WithHub serves POST /api/publish/{channel} with this node's hub.
func (s *Server) WithHub(hub Hub) *Server {
	s.hub = hub
	return s
}

// WithStats makes GET /api/admin/stats report, under each name, what its
// function returns (the counters of the stages this node runs).
func (s *Server) WithStats(stats map[string]func() any) *Server {
	s.stats = stats
	return s
}

// New returns the API server. validate checks saved criteria.
func New(store *storage.Store, validate func(model.Criteria) error) *Server {
	if validate == nil {
		validate = func(model.Criteria) error { return nil }
	}
	return &Server{store: store, validate: validate}
}

// Routes registers the API.
func (s *Server) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/alerts", s.listAlerts)
	mux.HandleFunc("POST /api/alerts", s.createAlert)
	mux.HandleFunc("GET /api/alerts/{id}", s.getAlert)
	mux.HandleFunc("PUT /api/alerts/{id}", s.updateAlert)
	mux.HandleFunc("DELETE /api/alerts/{id}", s.deleteAlert)
	mux.HandleFunc("GET /api/feeds", s.listFeeds)
	mux.HandleFunc("POST /api/feeds", s.createFeed)
	mux.HandleFunc("GET /api/feeds/{id}", s.getFeed)
	mux.HandleFunc("PUT /api/feeds/{id}", s.updateFeed)
	mux.HandleFunc("DELETE /api/feeds/{id}", s.deleteFeed)
	mux.HandleFunc("GET /api/jobs", s.listJobs)
	mux.HandleFunc("GET /api/jobs/{id}", s.getJob)
	mux.HandleFunc("PUT /api/jobs/{id}/saved", s.markJob(storage.MarkSaved, true))
	mux.HandleFunc("DELETE /api/jobs/{id}/saved", s.markJob(storage.MarkSaved, false))
	mux.HandleFunc("PUT /api/jobs/{id}/hidden", s.markJob(storage.MarkHidden, true))
	mux.HandleFunc("DELETE /api/jobs/{id}/hidden", s.markJob(storage.MarkHidden, false))
	mux.HandleFunc("GET /api/admin/stats", s.adminStats)
	s.notificationRoutes(mux)
	if s.scraper != nil {
		s.sourceRoutes(mux)
	}
	if s.hub != nil {
		mux.HandleFunc("POST /api/publish/{channel}", s.publish)
	}
	if s.auth != nil {
		s.accountRoutes(mux)
	}
}

// userAndID returns the signed-in user and the {id} of the path, or answers
// 401/400 and returns false.
func userAndID(w http.ResponseWriter, r *http.Request) (auth.Principal, int64, bool) {
	p, ok := auth.RequireUser(w, r)
	if !ok {
		return p, 0, false
	}
	id, ok := httpx.PathID(w, r, "")
	return p, id, ok
}

// checkCriteria validates the shape and the query of criteria.
func (s *Server) checkCriteria(c *model.Criteria) error {
	c.Query = strings.TrimSpace(c.Query)
	c.Location = strings.TrimSpace(c.Location)
	if len(c.Query) > maxFieldLen || len(c.Location) > maxFieldLen {
		return fmt.Errorf("query and location must be at most %d bytes", maxFieldLen)
	}
	for name, list := range map[string][]string{"employmentTypes": c.EmploymentTypes, "companies": c.Companies,
		"excludeCompanies": c.ExcludeCompanies, "sources": c.Sources} {
		if len(list) > maxListLen {
			return fmt.Errorf("%s may list at most %d values", name, maxListLen)
		}
		for _, v := range list {
			if strings.TrimSpace(v) == "" || len(v) > maxFieldLen {
				return fmt.Errorf("%s has an empty or too long value", name)
			}
		}
	}
	if c.SalaryMin != nil && c.SalaryMin.Amount < 0 {
		return errors.New("salaryMin.amount must not be negative")
	}
	if err := s.validate(*c); err != nil {
		return err
	}
	return narrows(c)
}

// notFound answers a lookup error; it returns true when it answered.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, err error, what string) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, storage.ErrNotFound):
		httpx.Errorf(w, http.StatusNotFound, "no such %s", what)
	default:
		httpx.ServerError(w, r, err)
	}
	return true
}
