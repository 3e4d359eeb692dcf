package scraper

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/birjob/birjob/model"
)

func htmlSelectors() map[string]string {
	return map[string]string{
		"item": "li.job", "title": "h2.title a", "url": "h2.title a@href", "company": ".company",
		"location": ".loc", "salary": ".pay", "postedAt": ".when", "externalId": "@data-id",
		"employmentType": ".type", "next": "a.next@href", "detail": "true",
	}
}

func byTitle(jobs []model.Job) map[string]model.Job {
	m := map[string]model.Job{}
	for _, j := range jobs {
		m[j.Title] = j
	}
	return m
}

func TestCrawl_HTMLMessyBoard(t *testing.T) {
	s, _ := newTestService(t)
	site := newFixtureSite(t)
	src := model.Source{Name: "ru", Kind: "html", URL: site.URL + "/board/list1.html", Schedule: "@every 1h",
		Selectors: htmlSelectors(), RespectRobots: true}
	if err := ValidateSource(src); err != nil {
		t.Fatal(err)
	}
	o, _ := s.options(src)
	res := s.crawl(context.Background(), src, o)
	if res.Pages != 2 || !res.FirstPageOK || res.ErrorCount != 0 {
		t.Fatalf("pages=%d ok=%v errors=%v notes=%v", res.Pages, res.FirstPageOK, res.Errors, res.Notes)
	}
	jobs := byTitle(res.Jobs)
	if len(res.Jobs) != 3 {
		t.Fatalf("jobs = %d: %+v", len(res.Jobs), res.Jobs)
	}
	// windows-1251 declared only in <meta>; <base href>; tracking dropped;
	// detail JSON-LD (commented, trailing commas, raw newline) merged over.
	g, ok := jobs["Go-разработчик (Senior)"]
	if !ok {
		t.Fatalf("cp1251 title not decoded: %v", keys(jobs))
	}
	if g.URL != site.URL+"/board/vacancy/101" || g.ExternalID != "ru-101" || g.Company != "ООО «Ромашка»" {
		t.Errorf("go job = %+v", g)
	}
	if g.Salary == nil || g.Salary.Min != 150000 || g.Salary.Max != 250000 || g.Salary.Currency != "RUB" || g.Salary.Period != "month" {
		t.Errorf("go salary = %+v", g.Salary)
	}
	if !g.Remote || g.EmploymentType != model.EmploymentFullTime || !strings.Contains(g.Description, "PostgreSQL") || strings.Contains(g.Description, "alert") {
		t.Errorf("go job details = remote %v type %q desc %q", g.Remote, g.EmploymentType, g.Description)
	}
	if g.ValidThrough == nil || g.ValidThrough.Year() != 2027 {
		t.Errorf("validThrough = %v", g.ValidThrough)
	}
	if g.PostedAt == nil || !g.PostedAt.Equal(time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("postedAt = %v", g.PostedAt)
	}
	// Unclosed tags, list fields only (detail has no JSON-LD), relative date.
	a, ok := jobs["Аналитик данных"]
	if !ok {
		t.Fatalf("second job missing: %v", keys(jobs))
	}
	if a.URL != site.URL+"/board/vacancy/102" || a.Salary == nil || a.Salary.Min != 100000 || a.Salary.Max != 150000 || a.Salary.Currency != "RUB" {
		t.Errorf("analyst = %+v salary %+v", a, a.Salary)
	}
	if a.PostedAt == nil || time.Since(*a.PostedAt) > 72*time.Hour {
		t.Errorf("analyst postedAt = %v", a.PostedAt)
	}
	// ISO-8859-1 from the header; the detail page names a canonical URL.
	c, ok := jobs["Café Manager & Barista"]
	if !ok {
		t.Fatalf("latin-1 title not decoded: %v", keys(jobs))
	}
	if c.Company != "Crème Brûlée S.A." || c.Location != "München" || c.URL != "https://cafe.example.com/jobs/201" {
		t.Errorf("cafe = %+v", c)
	}
	if c.Salary == nil || c.Salary.Min != 2750 || c.Salary.Currency != "EUR" || c.Salary.Period != "month" || c.Description != "Coffee & people" {
		t.Errorf("cafe salary %+v desc %q", c.Salary, c.Description)
	}
	// 410 on the detail page: gone, not a job.
	if len(res.Gone) != 1 || res.Gone[0] != "id:ru-103" {
		t.Errorf("gone = %v", res.Gone)
	}
	// The next link loops back to page 1: fetched once.
	if n := site.count("/board/list1.html"); n != 1 {
		t.Errorf("page 1 fetched %d times", n)
	}
}

func keys(m map[string]model.Job) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestCrawl_JSONLD(t *testing.T) {
	s, _ := newTestService(t)
	site := newFixtureSite(t)
	src := model.Source{Name: "ld", Kind: "jsonld", URL: site.URL + "/ld/", Schedule: "@every 1h",
		Selectors: map[string]string{"links": "a.job@href"}}
	if err := ValidateSource(src); err != nil {
		t.Fatal(err)
	}
	o, _ := s.options(src)
	res := s.crawl(context.Background(), src, o)
	jobs := byTitle(res.Jobs)
	want := []string{"Backend Engineer", "Frontend Engineer", "Data Engineer (Remote)", "DevOps", "QA Engineer"}
	for _, w := range want {
		if _, ok := jobs[w]; !ok {
			t.Errorf("missing %q; got %v (notes %v, errors %v)", w, keys(jobs), res.Notes, res.Errors)
		}
	}
	if len(res.Jobs) != len(want) {
		t.Errorf("jobs = %v", keys(jobs))
	}
	b := jobs["Backend Engineer"]
	if b.URL != site.URL+"/jobs/b1" || b.Location != "Bakı, Azərbaycan" || b.Salary == nil || b.Salary.Min != 2500 || b.Salary.Max != 3500 || b.Salary.Currency != "AZN" {
		t.Errorf("backend = %+v %+v", b, b.Salary)
	}
	if f := jobs["Frontend Engineer"]; f.PostedAt == nil || f.PostedAt.UTC().Hour() != 8 || f.Company != "Acme" {
		t.Errorf("frontend = %+v", f)
	}
	if d := jobs["Data Engineer (Remote)"]; !d.Remote {
		t.Errorf("data engineer not remote")
	}
	if d := jobs["DevOps"]; d.Salary == nil || d.Salary.Min != 90000 || d.Salary.Max != 120000 || d.Salary.Period != "year" {
		t.Errorf("devops salary = %+v", d.Salary)
	}
	if q := jobs["QA Engineer"]; q.Salary == nil || q.Salary.Min != 1800 || q.URL != site.URL+"/ld/detail-b5.html" || q.PostedAt == nil {
		t.Errorf("qa = %+v salary %+v", q, q.Salary)
	}
	if len(res.Notes) == 0 {
		t.Errorf("the broken block was not noted")
	}
	if res.ErrorCount != 0 {
		t.Errorf("errors = %v", res.Errors)
	}
}

func TestCrawl_FeedsAndJSON(t *testing.T) {
	s, _ := newTestService(t)
	site := newFixtureSite(t)
	for _, path := range []string{"/feed.rss", "/feed-charset.rss"} {
		t.Run(path, func(t *testing.T) {
			src := model.Source{Name: "rss", Kind: "rss", URL: site.URL + path, Schedule: "@every 1h"}
			o, _ := s.options(src)
			res := s.crawl(context.Background(), src, o)
			jobs := byTitle(res.Jobs)
			r1, ok := jobs["Бухгалтер"]
			if !ok || len(res.Jobs) != 2 {
				t.Fatalf("jobs = %v errors %v", keys(jobs), res.Errors)
			}
			if r1.URL != "https://rss.example.com/vacancy/r1" || r1.ExternalID != "r1" || r1.Company != "ООО Счёт" || r1.Location != "Казань" ||
				r1.Salary == nil || r1.Salary.Min != 80000 || r1.EmploymentType != model.EmploymentFullTime || r1.PostedAt == nil {
				t.Errorf("r1 = %+v salary %+v", r1, r1.Salary)
			}
			if r2 := jobs["Курьер (удалённо)"]; !r2.Remote || r2.PostedAt != nil {
				t.Errorf("r2 = %+v", r2)
			}
		})
	}
	t.Run("atom", func(t *testing.T) {
		src := model.Source{Name: "atom", Kind: "rss", URL: site.URL + "/feed.atom", Schedule: "@every 1h"}
		o, _ := s.options(src)
		res := s.crawl(context.Background(), src, o)
		if len(res.Jobs) != 1 {
			t.Fatalf("jobs = %+v errors %v", res.Jobs, res.Errors)
		}
		a := res.Jobs[0]
		if a.Title != "Rust & Go Engineer" || a.URL != "https://atom.example.com/jobs/a1" || a.Company != "Ferris Ltd" || a.Salary == nil || a.Salary.Min != 120000 || a.Salary.Period != "year" {
			t.Errorf("atom = %+v %+v", a, a.Salary)
		}
	})
	t.Run("json", func(t *testing.T) {
		src := model.Source{Name: "api", Kind: "json", URL: site.URL + "/api/jobs.json", Schedule: "@every 1h",
			Selectors: map[string]string{"items": "data.items", "title": "title", "url": "links.self", "company": "company.name",
				"location": "location", "salary": "pay", "postedAt": "posted", "employmentType": "type", "remote": "remote",
				"externalId": "id", "next": "meta.next"}}
		if err := ValidateSource(src); err != nil {
			t.Fatal(err)
		}
		o, _ := s.options(src)
		res := s.crawl(context.Background(), src, o)
		jobs := byTitle(res.Jobs)
		if len(res.Jobs) != 3 || res.Pages != 2 {
			t.Fatalf("jobs = %v pages %d errors %v", keys(jobs), res.Pages, res.Errors)
		}
		sa := jobs["Support Agent"]
		if sa.URL != site.URL+"/jobs/1" || sa.ExternalID != "1" || sa.Company != "Call Co" || sa.Salary == nil || sa.Salary.Min != 800 ||
			sa.Salary.Currency != "AZN" || sa.Salary.Period != "month" || sa.PostedAt == nil || sa.PostedAt.Unix() != 1773043200 || sa.Remote {
			t.Errorf("support = %+v %+v", sa, sa.Salary)
		}
		if ng := jobs["Night Guard"]; ng.Salary == nil || ng.Salary.Min != 900 || ng.Salary.Max != 0 || !ng.Remote {
			t.Errorf("guard = %+v %+v", ng, ng.Salary)
		}
	})
}

func TestCrawl_RobotsTxt(t *testing.T) {
	s, _ := newTestService(t)
	site := newFixtureSite(t)
	src := model.Source{Name: "p", Kind: "html", URL: site.URL + "/private/list1.html", Schedule: "@every 1h",
		Selectors: map[string]string{"item": "li.job", "title": "h2.title a", "url": "h2.title a@href"}, RespectRobots: true}
	o, _ := s.options(src)
	res := s.crawl(context.Background(), src, o)
	if res.FirstPageOK || len(res.Errors) == 0 || !strings.Contains(res.Errors[0], "robots.txt") {
		t.Fatalf("robots not honoured: ok=%v errors=%v", res.FirstPageOK, res.Errors)
	}
	if site.count("/private/list1.html") != 0 {
		t.Errorf("a disallowed page was fetched")
	}
	src.RespectRobots = false
	res = s.crawl(context.Background(), src, o)
	if !res.FirstPageOK || len(res.Jobs) == 0 {
		t.Errorf("with respectRobots off: ok=%v errors=%v", res.FirstPageOK, res.Errors)
	}
}

func TestCrawl_PrivateAddressRefused(t *testing.T) {
	db := newTestDB(t)
	cfg := testConfig()
	cfg.AllowPrivate = false
	s := NewService(db, cfg, testLogger(t))
	site := newFixtureSite(t)
	src := model.Source{Name: "x", Kind: "rss", URL: site.URL + "/feed.rss", Schedule: "@every 1h", RespectRobots: true}
	p := s.Preview(context.Background(), src)
	if len(p.Jobs) != 0 || len(p.Errors) == 0 || !strings.Contains(strings.Join(p.Errors, " "), "BIRJOB_ALLOW_PRIVATE") {
		t.Fatalf("loopback fetched: %+v", p)
	}
	if site.count("/feed.rss")+site.count("/robots.txt") != 0 {
		t.Errorf("the server was reached")
	}
	// A public page redirecting to a private address is refused the same
	// way: the check runs at dial time. (Simulated by a loopback redirect
	// target; the first hop is allowed through AllowPrivate in the other
	// tests.)
}
