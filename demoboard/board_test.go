package demoboard

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/birjob/birjob/model"
)

var testStart = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// clock is a settable clock shared with the server's goroutines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// newServer starts a board at testStart+at with opts (Start, Now set here).
func newServer(t *testing.T, opts Options, at time.Duration) (*Board, *clock, *httptest.Server) {
	t.Helper()
	c := &clock{t: testStart.Add(at)}
	opts.Start, opts.Now = testStart, c.Now
	b := New(opts)
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return b, c, srv
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func ids(ps []Posting) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func TestPosting_Deterministic(t *testing.T) {
	a := New(Options{Seed: 7, Start: testStart})
	b := New(Options{Seed: 7, Start: testStart})
	c := New(Options{Seed: 8, Start: testStart})
	differ := 0
	for k := range 300 {
		pa, pb, pc := a.Posting(k), b.Posting(k), c.Posting(k)
		if !reflect.DeepEqual(pa, pb) {
			t.Fatalf("seed 7, k=%d: two boards disagree:\n%+v\n%+v", k, pa, pb)
		}
		if pa.Title != pc.Title || pa.Company != pc.Company || pa.SalaryText != pc.SalaryText {
			differ++
		}
		if want := testStart.Add(time.Duration(k) * DefaultInterval); !pa.AppearsAt.Equal(want) {
			t.Fatalf("k=%d appears at %v, want %v", k, pa.AppearsAt, want)
		}
	}
	if differ < 250 {
		t.Errorf("seeds 7 and 8 share the content of %d of 300 postings", 300-differ)
	}
	if got := a.Posting(-1); got.ID != "" {
		t.Errorf("Posting(-1) = %+v, want zero", got)
	}
}

// TestPosting_Variety checks that the content covers what scrapers and
// matchers must handle.
func TestPosting_Variety(t *testing.T) {
	b := New(Options{Seed: 1, Start: testStart})
	seen := map[string]bool{}
	for k := range 1000 {
		p := b.Posting(k)
		seen["lang:"+p.Language] = true
		seen["type:"+p.EmploymentType] = true
		seen["loc:"+p.Location] = true
		if p.Remote {
			seen["remote"] = true
		}
		if p.ExpiresEarly {
			seen["early"] = true
			if !p.ExpiresAt.Before(p.AppearsAt.Add(DefaultLifetime)) {
				t.Errorf("%s expires early but at %v", p.ID, p.ExpiresAt)
			}
		}
		if p.Salary == nil {
			seen["nosalary"] = true
		} else {
			seen["cur:"+p.Salary.Currency] = true
			seen["period:"+p.Salary.Period] = true
			if p.Salary.Max == 0 {
				seen["from"] = true
			}
			if p.Salary.Min <= 0 || (p.Salary.Max != 0 && p.Salary.Max < p.Salary.Min) {
				t.Errorf("%s: bad salary %+v", p.ID, *p.Salary)
			}
		}
		if p.Title == "" || p.Company == "" || p.Location == "" || p.SalaryText == "" || p.Description == "" {
			t.Errorf("%s has an empty field: %+v", p.ID, p)
		}
	}
	for _, want := range []string{"lang:az", "lang:en", "lang:ru", "type:full-time", "type:part-time",
		"type:contract", "type:internship", "loc:Bakı", "loc:Baku", "loc:Баку", "loc:Sumqayıt", "loc:Gəncə",
		"loc:Remote", "remote", "early", "nosalary", "cur:AZN", "cur:USD", "cur:EUR", "period:month",
		"period:year", "from"} {
		if !seen[want] {
			t.Errorf("1000 postings never have %s", want)
		}
	}
}

func TestJobsAt_AppearOverTime(t *testing.T) {
	b, c, srv := newServer(t, Options{Seed: 3, Interval: time.Minute, Lifetime: time.Hour}, -time.Second)
	if got := b.JobsAt(c.Now()); len(got) != 0 {
		t.Fatalf("before Start: %v", ids(got))
	}
	_, body := get(t, srv.URL+"/jobs")
	if strings.Contains(body, `class="job"`) {
		t.Fatal("list page shows jobs before Start")
	}
	for step := range 4 {
		c.Set(testStart.Add(time.Duration(step) * time.Minute))
		var want []string
		for k := step; k >= 0; k-- {
			if p := b.Posting(k); p.ListedAt(c.Now()) {
				want = append(want, p.ID)
			}
		}
		got := ids(b.JobsAt(c.Now()))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("at step %d: JobsAt = %v, want %v", step, got, want)
		}
		_, body := get(t, srv.URL+"/jobs")
		doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
		first, _ := doc.Find("article.job").First().Attr("data-id")
		if p := b.Posting(step); p.ListedAt(c.Now()) && first != p.ID {
			t.Fatalf("at step %d the newest listed job is %q, want %s", step, first, p.ID)
		}
	}
}

func TestExpiry_ListedThenGone(t *testing.T) {
	b, c, srv := newServer(t, Options{Seed: 5, Interval: time.Second, Lifetime: time.Minute}, 0)
	var p Posting
	for k := range 100 {
		if p = b.Posting(k); p.ExpiresEarly {
			break
		}
	}
	if !p.ExpiresEarly {
		t.Fatal("no early-expiring posting among the first 100")
	}
	c.Set(p.AppearsAt)
	if resp, body := get(t, srv.URL+p.URL); resp.StatusCode != http.StatusOK || !strings.Contains(body, "application/ld+json") {
		t.Fatalf("detail of a listed job: %d", resp.StatusCode)
	}
	if _, body := get(t, srv.URL+"/api/jobs.json"); !strings.Contains(body, `"`+p.ID+`"`) {
		t.Fatalf("%s not in the API while listed", p.ID)
	}
	c.Set(p.ExpiresAt)
	for _, q := range b.JobsAt(c.Now()) {
		if q.ID == p.ID {
			t.Fatalf("%s still listed at its expiry", p.ID)
		}
	}
	if resp, _ := get(t, srv.URL+p.URL); resp.StatusCode != http.StatusGone {
		t.Fatalf("detail after expiry: %d, want 410", resp.StatusCode)
	}
	for _, path := range []string{"/jobs?page=1", "/jobs?page=2", "/feed.rss", "/api/jobs.json"} {
		if _, body := get(t, srv.URL+path); strings.Contains(body, p.ID+`"`) || strings.Contains(body, p.ID+"<") {
			t.Errorf("%s still in %s after expiry", p.ID, path)
		}
	}
	future := b.Posting(int(time.Hour / time.Second))
	if resp, _ := get(t, srv.URL+future.URL); resp.StatusCode != http.StatusNotFound {
		t.Errorf("detail of a job not yet posted: %d, want 404", resp.StatusCode)
	}
}

// crawl follows the next links from the start URL and returns the item ids.
func crawl(t *testing.T, b *Board, srvURL string) []string {
	t.Helper()
	var got []string
	next := b.StartURL(srvURL)
	for pages := 0; next != ""; pages++ {
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
		resp, body := get(t, next)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", next, resp.StatusCode)
		}
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		doc.Find("article.job").Each(func(_ int, s *goquery.Selection) {
			id, _ := s.Attr("data-id")
			got = append(got, id)
		})
		next = ""
		if href, ok := doc.Find(`a.next[rel="next"]`).Attr("href"); ok {
			next = srvURL + href
		}
	}
	return got
}

func TestPagination_CoversEveryJobOnce(t *testing.T) {
	for _, per := range []int{1, 7, 10, 500} {
		b, c, srv := newServer(t, Options{Seed: 9, PerPage: per}, 20*time.Minute)
		want := ids(b.JobsAt(c.Now()))
		if len(want) < 50 {
			t.Fatalf("only %d listed jobs", len(want))
		}
		if got := crawl(t, b, srv.URL); !reflect.DeepEqual(got, want) {
			t.Errorf("per page %d: crawl found %d jobs %v, want %d %v", per, len(got), got, len(want), want)
		}
	}
}

func TestDetail_JSONLD(t *testing.T) {
	b, c, srv := newServer(t, Options{Seed: 11}, 30*time.Minute)
	jobs := b.JobsAt(c.Now())
	var sawRemote, sawSalary, sawNoSalary bool
	for _, p := range jobs {
		resp, body := get(t, srv.URL+p.URL)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("%s: %d %s", p.URL, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var ld struct {
			Type               string `json:"@type"`
			Title              string
			Description        string
			DatePosted         string
			ValidThrough       string
			EmploymentType     string
			HiringOrganization struct{ Name string }
			JobLocation        *struct {
				Address struct{ AddressLocality, AddressCountry string }
			}
			JobLocationType string
			BaseSalary      *struct {
				Currency string
				Value    struct {
					MinValue, MaxValue float64
					UnitText           string
				}
			}
			Identifier struct{ Value string }
			URL        string
		}
		raw := doc.Find(`script[type="application/ld+json"]`).Text()
		if err := json.Unmarshal([]byte(raw), &ld); err != nil {
			t.Fatalf("%s: JSON-LD does not parse: %v\n%s", p.ID, err, raw)
		}
		posted, err1 := time.Parse(time.RFC3339, ld.DatePosted)
		valid, err2 := time.Parse(time.RFC3339, ld.ValidThrough)
		switch {
		case ld.Type != "JobPosting", ld.Title != p.Title, ld.Description != p.Description,
			ld.HiringOrganization.Name != p.Company, ld.Identifier.Value != p.ID, ld.URL != srv.URL+p.URL,
			ld.EmploymentType == "":
			t.Fatalf("%s: JSON-LD %+v does not match %+v", p.ID, ld, p)
		case err1 != nil || err2 != nil || !posted.Equal(p.PostedAt) || !valid.Equal(p.ExpiresAt):
			t.Fatalf("%s: dates %q %q, want %v %v", p.ID, ld.DatePosted, ld.ValidThrough, p.PostedAt, p.ExpiresAt)
		case p.Remote != (ld.JobLocationType == "TELECOMMUTE"):
			t.Fatalf("%s: remote %v, jobLocationType %q", p.ID, p.Remote, ld.JobLocationType)
		case p.Location != RemoteLocation && (ld.JobLocation == nil ||
			ld.JobLocation.Address.AddressLocality != p.Location || ld.JobLocation.Address.AddressCountry != "AZ"):
			t.Fatalf("%s: jobLocation %+v, want %s", p.ID, ld.JobLocation, p.Location)
		case (p.Salary == nil) != (ld.BaseSalary == nil):
			t.Fatalf("%s: salary %+v, baseSalary %+v", p.ID, p.Salary, ld.BaseSalary)
		}
		sawRemote = sawRemote || p.Remote
		if s := ld.BaseSalary; s != nil {
			sawSalary = true
			if s.Currency != p.Salary.Currency || s.Value.MinValue != p.Salary.Min || s.Value.MaxValue != p.Salary.Max ||
				s.Value.UnitText != strings.ToUpper(p.Salary.Period) {
				t.Fatalf("%s: baseSalary %+v, want %+v", p.ID, *s, *p.Salary)
			}
		} else {
			sawNoSalary = true
		}
		if got := strings.TrimSpace(doc.Find("h1.title").Text()); got != p.Title {
			t.Fatalf("%s: page title %q", p.ID, got)
		}
	}
	if !sawRemote || !sawSalary || !sawNoSalary {
		t.Errorf("%d jobs: remote %v, salary %v, no salary %v", len(jobs), sawRemote, sawSalary, sawNoSalary)
	}
}

func TestRSS_Parses(t *testing.T) {
	b, c, srv := newServer(t, Options{Seed: 2}, 15*time.Minute)
	resp, body := get(t, srv.URL+"/feed.rss")
	if ct := resp.Header.Get("Content-Type"); ct != "application/rss+xml; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	var feed struct {
		Version string `xml:"version,attr"`
		Items   []struct {
			Title       string   `xml:"title"`
			Link        string   `xml:"link"`
			PubDate     string   `xml:"pubDate"`
			Description string   `xml:"description"`
			GUID        string   `xml:"guid"`
			Category    []string `xml:"category"`
		} `xml:"channel>item"`
	}
	if err := xml.Unmarshal([]byte(body), &feed); err != nil {
		t.Fatalf("RSS does not parse: %v", err)
	}
	want := b.JobsAt(c.Now())
	if feed.Version != "2.0" || len(feed.Items) != len(want) {
		t.Fatalf("version %q, %d items, want 2.0 and %d", feed.Version, len(feed.Items), len(want))
	}
	for i, it := range feed.Items {
		p := want[i]
		pub, err := time.Parse(time.RFC1123Z, it.PubDate)
		if err != nil || !pub.Equal(p.PostedAt) || it.Title != p.Title || it.Link != srv.URL+p.URL ||
			it.GUID != p.ID || !strings.HasPrefix(it.Description, p.Summary) ||
			!reflect.DeepEqual(it.Category, []string{p.Company, p.Location}) {
			t.Fatalf("item %d = %+v, want %+v", i, it, p)
		}
	}
}

func TestAPI_JSON(t *testing.T) {
	b, c, srv := newServer(t, Options{Seed: 4}, 12*time.Minute)
	resp, body := get(t, srv.URL+"/api/jobs.json")
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	var got struct {
		Data struct {
			Items []struct {
				ID, Title, Company, Location, URL, PostedAt, EmploymentType string
				Remote                                                      bool
				Salary                                                      *model.Salary
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want := b.JobsAt(c.Now())
	if len(got.Data.Items) != len(want) {
		t.Fatalf("%d items, want %d", len(got.Data.Items), len(want))
	}
	for i, it := range got.Data.Items {
		p := want[i]
		if it.ID != p.ID || it.Title != p.Title || it.URL != srv.URL+p.URL || it.Remote != p.Remote ||
			it.EmploymentType != p.EmploymentType || !reflect.DeepEqual(it.Salary, p.Salary) {
			t.Fatalf("item %d = %+v, want %+v", i, it, p)
		}
	}
}

func TestConditionalGET(t *testing.T) {
	_, c, srv := newServer(t, Options{Seed: 6, Interval: time.Minute}, 10*time.Minute+30*time.Second)
	for _, path := range []string{"/jobs", "/jobs?page=2", "/feed.rss", "/api/jobs.json"} {
		c.Set(testStart.Add(10*time.Minute + 30*time.Second))
		resp, _ := get(t, srv.URL+path)
		etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		if resp.StatusCode != http.StatusOK || etag == "" || lm == "" {
			t.Fatalf("%s: %d, ETag %q, Last-Modified %q", path, resp.StatusCode, etag, lm)
		}
		if resp, _ := get(t, srv.URL+path, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: %d, want 304", path, resp.StatusCode)
		}
		if resp, _ := get(t, srv.URL+path, "If-Modified-Since", lm); resp.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-Modified-Since: %d, want 304", path, resp.StatusCode)
		}
		c.Set(testStart.Add(11*time.Minute + 30*time.Second)) // one more job
		resp, _ = get(t, srv.URL+path, "If-None-Match", etag)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == etag {
			t.Errorf("%s after a new job: %d, ETag %q (was %q)", path, resp.StatusCode, resp.Header.Get("ETag"), etag)
		}
		if resp, _ := get(t, srv.URL+path, "If-Modified-Since", lm); resp.StatusCode != http.StatusOK {
			t.Errorf("%s after a new job with If-Modified-Since: %d, want 200", path, resp.StatusCode)
		}
	}
}

// extract applies one selector of the html source vocabulary to an item.
func extract(item *goquery.Selection, sel string) string {
	css, attr, hasAttr := strings.Cut(sel, "@")
	s := item
	if css != "" {
		s = item.Find(css).First()
	}
	if hasAttr {
		v, _ := s.Attr(attr)
		return strings.TrimSpace(v)
	}
	return strings.TrimSpace(s.Text())
}

func TestSourceSelectors_ExtractEveryField(t *testing.T) {
	b, c, srv := newServer(t, Options{Seed: 12, BasePath: "/demo-board"}, 20*time.Minute)
	sel := SourceSelectors()
	want := b.JobsAt(c.Now())
	_, body := get(t, b.StartURL(srv.URL))
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	items := doc.Find(sel["item"])
	if items.Length() != DefaultPerPage {
		t.Fatalf("%d items on page 1, want %d", items.Length(), DefaultPerPage)
	}
	items.Each(func(i int, it *goquery.Selection) {
		p := want[i]
		posted, err := time.Parse(time.RFC3339, extract(it, sel["postedAt"]))
		got := map[string]string{
			"title": extract(it, sel["title"]), "url": extract(it, sel["url"]),
			"company": extract(it, sel["company"]), "location": extract(it, sel["location"]),
			"salary": extract(it, sel["salary"]), "description": extract(it, sel["description"]),
			"externalId": extract(it, sel["externalId"]),
		}
		exp := map[string]string{
			"title": p.Title, "url": p.URL, "company": p.Company, "location": p.Location,
			"salary": p.SalaryText, "description": p.Summary, "externalId": p.ID,
		}
		if !reflect.DeepEqual(got, exp) || err != nil || !posted.Equal(p.PostedAt) {
			t.Errorf("item %d: got %v posted %v (%v), want %v posted %v", i, got, posted, err, exp, p.PostedAt)
		}
		if !strings.HasPrefix(p.URL, "/demo-board/jobs/") {
			t.Errorf("url %q is not under the base path", p.URL)
		}
	})
	if next := extract(doc.Selection, sel["next"]); next != "/demo-board/jobs?page=2" {
		t.Errorf("next = %q", next)
	}
	if sel["detail"] != "true" {
		t.Errorf("detail = %q", sel["detail"])
	}
}

func TestListPage_OddQueries(t *testing.T) {
	b, c, srv := newServer(t, Options{Seed: 1}, 10*time.Minute)
	pages := (len(b.JobsAt(c.Now())) + DefaultPerPage - 1) / DefaultPerPage
	for _, tc := range []struct {
		query string
		code  int
		jobs  bool
	}{
		{"", 200, true},
		{"?page=", 200, true},
		{"?page=1", 200, true},
		{"?page=2&page=abc", 200, true},
		{"?other=%zz", 200, true}, // url.ParseQuery drops the bad pair: page 1
		{"?page=0", 400, false},
		{"?page=-1", 400, false},
		{"?page=abc", 400, false},
		{"?page=1.5", 400, false},
		{"?page=99999999999999999999999", 400, false},
		{"?page=%00", 400, false},
		{"?page=1000000", 200, false},
		{"?page=9223372036854775807", 200, false},
	} {
		resp, body := get(t, srv.URL+"/jobs"+tc.query)
		if resp.StatusCode != tc.code {
			t.Errorf("%q: %d, want %d", tc.query, resp.StatusCode, tc.code)
			continue
		}
		if has := strings.Contains(body, `class="job"`); has != tc.jobs {
			t.Errorf("%q: has jobs %v, want %v", tc.query, has, tc.jobs)
		}
		if tc.code == 200 && !tc.jobs && strings.Contains(body, `rel="next"`) {
			t.Errorf("%q: an empty page links to a next page", tc.query)
		}
		if resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("%q: Content-Type %q", tc.query, resp.Header.Get("Content-Type"))
		}
	}
	if resp, body := get(t, srv.URL+"/jobs?page="+itoa(pages)); resp.StatusCode != 200 || strings.Contains(body, `rel="next"`) {
		t.Errorf("last page %d: %d, or it has a next link", pages, resp.StatusCode)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestServeHTTP_Mounting(t *testing.T) {
	c := &clock{t: testStart.Add(5 * time.Minute)}
	b := New(Options{Seed: 1, Start: testStart, Now: c.Now, BasePath: "/demo-board/"})
	mux := http.NewServeMux()
	mux.Handle("/demo-board/", b)
	mux.Handle("/stripped/demo-board/", http.StripPrefix("/stripped", b)) // both forms must work
	mux.Handle("/bare/", http.StripPrefix("/bare/demo-board", b))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	p := b.JobsAt(c.Now())[0]
	if p.URL != "/demo-board/jobs/"+p.ID {
		t.Fatalf("URL %q", p.URL)
	}
	for _, prefix := range []string{"", "/stripped", "/bare"} {
		if got := crawl(t, b, srv.URL+prefix); len(got) != len(b.JobsAt(c.Now())) {
			t.Errorf("prefix %q: crawl found %d jobs", prefix, len(got))
		}
		if resp, _ := get(t, srv.URL+prefix+p.URL); resp.StatusCode != 200 {
			t.Errorf("prefix %q: detail %d", prefix, resp.StatusCode)
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(srv.URL + "/demo-board/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/demo-board/jobs" {
		t.Errorf("/demo-board/: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	rec := httptest.NewRecorder() // the mux redirects "/demo-board" itself; the board alone:
	b.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/demo-board", nil))
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/demo-board/jobs" {
		t.Errorf("/demo-board: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	for path, code := range map[string]int{
		"/demo-board/nope": 404, "/demo-board/jobs/demo-x": 404, "/demo-board/jobs/demo-007": 404,
		"/demo-board/jobs/demo--1": 404, "/demo-board/jobs/demo-99999999999999999999": 404,
		"/demo-board/jobs/" + p.ID + "/x": 404, "/demo-board/private/admin": 404,
	} {
		resp, body := get(t, srv.URL+path)
		if resp.StatusCode != code || !strings.Contains(body, "<footer>") {
			t.Errorf("%s: %d, want %d with a full page", path, resp.StatusCode, code)
		}
	}
	resp, err = http.Post(srv.URL+"/demo-board/jobs", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
	resp, body := get(t, srv.URL+"/demo-board/robots.txt")
	if resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" || !strings.Contains(body, "Disallow: /demo-board/private/") {
		t.Errorf("robots.txt: %q", body)
	}
	if got, want := b.StartURL("http://h:1/"), "http://h:1/demo-board/jobs"; got != want {
		t.Errorf("StartURL = %q, want %q", got, want)
	}
}

func TestServe_StopsOnContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, "127.0.0.1:0", New(Options{})) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if err := Main([]string{"-interval", "soon"}); err == nil {
		t.Error("Main accepted a bad flag")
	}
}

// FuzzServeHTTP feeds hostile paths and queries: the board answers every one
// with a known status and a charset, and never panics.
func FuzzServeHTTP(f *testing.F) {
	for _, s := range [][2]string{
		{"/jobs", "page=2"}, {"/jobs", "page=-1"}, {"/jobs/demo-3", ""}, {"/demo-board/jobs/demo-%00", ""},
		{"/jobs", "page=99999999999999999999"}, {"/feed.rss", "x=<script>"}, {"/../../etc/passwd", ""},
		{"/demo-board", "page=1;page=2"}, {"/jobs/demo-9223372036854775807", ""}, {"/api/jobs.json", "%"},
	} {
		f.Add(s[0], s[1])
	}
	c := &clock{t: testStart.Add(7 * time.Minute)}
	b := New(Options{Seed: 1, Start: testStart, Now: c.Now, BasePath: "/demo-board"})
	f.Fuzz(func(t *testing.T, path, query string) {
		req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: path, RawQuery: query}, Host: "example.test", Header: http.Header{}}
		rec := httptest.NewRecorder()
		b.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 302, 400, 404, 410:
		default:
			t.Fatalf("%q?%q: status %d", path, query, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, "charset=utf-8") {
			t.Fatalf("%q?%q: Content-Type %q", path, query, ct)
		}
	})
}

func TestServeHTTP_Head(t *testing.T) {
	_, _, srv := newServer(t, Options{Seed: 1}, 3*time.Minute)
	resp, err := http.Head(srv.URL + "/jobs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" || resp.Header.Get("Last-Modified") == "" {
		t.Errorf("HEAD /jobs: %d %v", resp.StatusCode, resp.Header)
	}
}

// BenchmarkListPage measures one list page at the default settings (about
// 120 listed jobs).
func BenchmarkListPage(b *testing.B) {
	c := &clock{t: testStart.Add(time.Hour)}
	board := New(Options{Seed: 1, Start: testStart, Now: c.Now})
	req := httptest.NewRequest(http.MethodGet, "/jobs?page=3", nil)
	for b.Loop() {
		rec := httptest.NewRecorder()
		board.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkDetailPage measures one detail page.
func BenchmarkDetailPage(b *testing.B) {
	c := &clock{t: testStart.Add(time.Hour)}
	board := New(Options{Seed: 1, Start: testStart, Now: c.Now})
	req := httptest.NewRequest(http.MethodGet, board.JobsAt(c.Now())[5].URL, nil)
	for b.Loop() {
		rec := httptest.NewRecorder()
		board.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// TestNew_DefaultStartSurvivesRestart: two boards made at different times
// with a zero Start (birjob before and after a restart) agree on every id,
// and a new board already lists a full Lifetime of jobs.
func TestNew_DefaultStartSurvivesRestart(t *testing.T) {
	c := &clock{t: time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)}
	before := New(Options{Seed: 1, Now: c.Now})
	c.Set(c.Now().Add(time.Hour))
	after := New(Options{Seed: 1, Now: c.Now})
	a, b := before.JobsAt(c.Now()), after.JobsAt(c.Now())
	if len(a) < 80 || !reflect.DeepEqual(a, b) {
		t.Fatalf("before/after restart: %d and %d jobs, equal %v", len(a), len(b), reflect.DeepEqual(a, b))
	}
	tiny := New(Options{Interval: time.Nanosecond, Now: c.Now})
	if o := tiny.Options(); o.Lifetime/o.Interval > MaxListed {
		t.Fatalf("Lifetime %v at Interval %v was not bounded", o.Lifetime, o.Interval)
	}
	if n := len(tiny.JobsAt(c.Now())); n == 0 || n > MaxListed {
		t.Fatalf("%d jobs listed at a 1ns interval", n)
	}
}
