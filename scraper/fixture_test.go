package scraper

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// fixtureRoute is one page of the fixture site.
type fixtureRoute struct {
	file        string
	contentType string
	status      int
}

var fixtureRoutes = map[string]fixtureRoute{
	"/board/list1.html":       {"list1.html", "text/html", 200}, // charset only in <meta>
	"/board/page2.html":       {"list2.html", "text/html; charset=ISO-8859-1", 200},
	"/board/vacancy/101":      {"detail101.html", "text/html; charset=utf-8", 200},
	"/board/vacancy/102":      {"detail102.html", "text/html", 200},
	"/board/vacancy/103":      {"", "", http.StatusGone},
	"/board/vacancy/201":      {"detail201.html", "text/html", 200},
	"/private/list1.html":     {"list1.html", "text/html", 200},
	"/ld/":                    {"ld.html", "text/html; charset=utf-8", 200},
	"/ld/detail-b5.html":      {"ld-detail-b5.html", "text/html", 200},
	"/ld/gone.html":           {"", "", http.StatusNotFound},
	"/feed.rss":               {"feed.rss", "application/rss+xml", 200},
	"/feed-charset.rss":       {"feed.rss", "application/rss+xml; charset=windows-1251", 200},
	"/feed.atom":              {"feed.atom", "application/atom+xml", 200},
	"/api/jobs.json":          {"api1.json", "application/json", 200},
	"/api/jobs.json?page=2":   {"api2.json", "application/json", 200},
	"/robots.txt":             {"", "text/plain", 200},
	"/board/vacancy/101?x=1":  {"detail101.html", "text/html", 200},
	"/board/list1.html?x=bom": {"list1.html", "text/html", 200},
}

// fixtureSite serves testdata/site, counting the requests per path.
type fixtureSite struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newFixtureSite(t testing.TB) *fixtureSite {
	t.Helper()
	fs := &fixtureSite{hits: map[string]int{}}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.mu.Lock()
		fs.hits[r.URL.Path]++
		fs.mu.Unlock()
		key := r.URL.Path
		if r.URL.RawQuery != "" {
			if _, ok := fixtureRoutes[key+"?"+r.URL.RawQuery]; ok {
				key += "?" + r.URL.RawQuery
			}
		}
		if r.URL.Path == "/robots.txt" {
			w.Write([]byte("User-agent: *\nDisallow: /private/\n"))
			return
		}
		rt, ok := fixtureRoutes[key]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if rt.file == "" {
			w.WriteHeader(rt.status)
			return
		}
		b, err := os.ReadFile(filepath.Join("testdata", "site", rt.file))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", rt.contentType)
		w.WriteHeader(rt.status)
		w.Write(b)
	}))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *fixtureSite) count(path string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.hits[path]
}
