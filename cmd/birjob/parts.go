package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/birjob/birjob/config"
	"github.com/birjob/birjob/courier"
	"github.com/birjob/birjob/demoboard"
	"github.com/birjob/birjob/matcher"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/notify"
	"github.com/birjob/birjob/scraper"
	"github.com/birjob/birjob/web"
)

// worker is a background loop of this node.
type worker struct {
	name string
	run  func(ctx context.Context) error
}

// parts are the pipeline stages this node runs, by role.
type parts struct {
	workers         []worker
	routes          func(mux *http.ServeMux)
	validate        func(model.Criteria) error
	search          func(q string) (func(*model.Job) bool, error)
	shutdownStreams func(ctx context.Context)
	hub             *notify.Hub
	scraper         *scraper.Service
	matcher         *matcher.Worker
	demo            *demoboard.Board
	courier         courier.Config // also read by the push and mail routes
	// accountMail sends the account mails (verify, reset) of this web
	// node, by the courier's route: SMTP, or the admin's outbox.
	accountMail *courier.AccountMailer
}

// demoOn decides demo mode: "auto" is on while no source but the demo
// board's own exists, so that a first run shows the pipeline and a
// configured deployment does not get demo jobs.
func demoOn(ctx context.Context, a *App) (bool, error) {
	switch a.cfg.Demo {
	case config.DemoOn:
		return true, nil
	case config.DemoOff:
		return false, nil
	}
	others, err := a.store.CountSources(ctx, DemoSourceName)
	if err != nil {
		return false, fmt.Errorf("demo mode: %w", err)
	}
	return others == 0, nil
}

func buildParts(ctx context.Context, a *App) (*parts, error) {
	cfg := a.cfg
	p := &parts{validate: matcher.Validate, search: matcher.Search}
	demo, err := demoOn(ctx, a)
	if err != nil {
		return nil, err
	}
	scfg := scraper.Config{
		AllowPrivate:       cfg.AllowPrivate == "true",
		Node:               cfg.Node,
		ExpireAfterMissing: cfg.ExpireAfterMissing,
		BacklogMaxAge:      cfg.BacklogMaxAge,
		PauseAfterFailures: cmp.Or(cfg.PauseAfterFailures, -1), // 0: never
	}
	if demo && cfg.Web && cfg.Scrape && cfg.AllowPrivate == "auto" {
		scfg.AllowAddrs = []string{strings.TrimPrefix(a.URL(), "http://")} // the demo board's own address, no other
	} else if demo && cfg.AllowPrivate == "false" {
		a.log.Warn("demo mode with BIRJOB_ALLOW_PRIVATE=false: the demo source cannot fetch the demo board (set it to auto)")
	}
	p.scraper = scraper.NewService(a.pool, scfg, a.log.With("component", "scraper"))
	a.reg.MustRegister(p.scraper.Collector())
	if cfg.Scrape {
		p.workers = append(p.workers, worker{"scraper", p.scraper.Run})
	}
	if cfg.Match {
		p.matcher = matcher.NewWorker(a.pool, a.log)
		a.reg.MustRegister(p.matcher.Collector())
		p.workers = append(p.workers, worker{"matcher", p.matcher.Run})
	}
	// Push endpoints may be private (http on loopback too) where sources
	// may: with BIRJOB_ALLOW_PRIVATE=true, or in demo mode under auto.
	p.courier = courierConfig(a, cfg.AllowPrivate == "true" || (cfg.AllowPrivate == "auto" && demo))
	if cfg.Courier {
		c, err := courier.New(a.pool, p.courier, a.log, a.reg)
		if err != nil {
			return nil, err
		}
		p.workers = append(p.workers, worker{"courier", c.Run})
	}
	if cfg.Web {
		if p.accountMail, err = courier.NewAccountMailer(a.store, p.courier); err != nil {
			return nil, err
		}
		p.workers = append(p.workers, worker{"sessions", a.purgeSessions})
		p.hub = notify.NewHub(a.pool, notify.Config{
			Keepalive:      cfg.Keepalive,
			Retention:      cfg.Retention,
			AllowedOrigins: cfg.AllowedOrigins,
			MaxStreams:     cfg.MaxStreams,
		}, a.log.With("component", "notify"), a.reg)
		p.workers = append(p.workers, worker{"notify", p.hub.Run})
		p.shutdownStreams = p.hub.Shutdown
	}

	// The demo source points at the board of the node that scrapes it (its
	// own address), so only a node with both roles creates or moves it; a
	// web-only node of a cluster leaves it alone.
	if demo && cfg.Web && cfg.Scrape {
		p.demo = demoboard.New(demoboard.Options{BasePath: demoBasePath})
		src := model.Source{
			Name:          DemoSourceName,
			Kind:          model.SourceHTML,
			URL:           p.demo.StartURL(a.URL()),
			Schedule:      "@every 10s",
			Enabled:       true,
			Selectors:     demoboard.SourceSelectors(),
			RespectRobots: true,
		}
		s, err := p.scraper.EnsureSource(ctx, src)
		if err == nil && s.URL != src.URL { // the node's address changed since the source was made
			s.URL = src.URL
			s, err = p.scraper.UpdateSource(ctx, s)
		}
		if err != nil {
			return nil, fmt.Errorf("demo source: %w", err)
		}
		a.log.Info("demo mode: the demo job board is scraped as a source", "source_id", s.ID, "url", s.URL)
	} else if !demo && cfg.Scrape {
		// A demo source left from an earlier demo run would fail every tick
		// against a board that is no longer served.
		disabled, err := p.scraper.DisableSourceByName(ctx, DemoSourceName)
		if err != nil {
			return nil, fmt.Errorf("disable demo source: %w", err)
		}
		if disabled {
			a.log.Info("demo mode off: disabled the demo-board source")
		}
	}

	p.workers = append(p.workers, worker{"stats", p.sampleStats(a)})

	page := web.Handler(web.Options{Logger: a.log})
	p.routes = func(mux *http.ServeMux) {
		if p.hub != nil {
			p.hub.Routes(mux)
		}
		if p.demo != nil {
			mux.Handle(demoBasePath+"/", p.demo)
		}
		mux.Handle("/", page)
	}
	return p, nil
}

// courierConfig is the courier's configuration; links point at
// BIRJOB_PUBLIC_URL, else at this node.
func courierConfig(a *App, allowPrivate bool) courier.Config {
	cfg := a.cfg
	public := cfg.PublicURL
	if public == "" && a.listener != nil {
		public = a.URL()
	} else if public == "" {
		public = "http://localhost" + cfg.Addr
	}
	return courier.Config{
		PublicURL:       public,
		VAPIDPublicKey:  cfg.VAPIDPublicKey,
		VAPIDPrivateKey: cfg.VAPIDPrivateKey,
		VAPIDSubject:    cfg.VAPIDSubject,
		SMTPURL:         cfg.SMTPURL,
		MailFrom:        cfg.MailFrom,
		DigestHour:      cfg.DigestHour,
		AllowPrivate:    allowPrivate,
	}
}

// stats are the counters of the stages this node runs, for
// GET /api/admin/stats.
func (p *parts) stats() map[string]func() any {
	out := map[string]func() any{}
	if p.hub != nil {
		out["notify"] = func() any { return p.hub.Stats() }
	}
	if p.matcher != nil {
		out["matcher"] = func() any { return p.matcher.Stats() }
	}
	return out
}
