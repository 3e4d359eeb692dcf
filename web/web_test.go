package web

import (
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func get(t *testing.T, h http.Handler, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var staticURL = regexp.MustCompile(`/static/[A-Za-z0-9._-]+`)

func TestHandler_PageHeaders(t *testing.T) {
	h := Handler(Options{})
	res := get(t, h, "/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", res.StatusCode)
	}
	want := map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
		"X-Frame-Options":        "DENY",
		"Cache-Control":          "no-cache",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self' data:"} {
		if !strings.Contains(csp, d+";") && !strings.HasSuffix(csp, d) {
			t.Errorf("CSP %q lacks %q", csp, d)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP allows something unsafe: %q", csp)
	}
}

// The page must work under its own CSP: no inline script, no inline
// style, no event-handler attributes, no third-party URL.
func TestHandler_PageHasNothingInline(t *testing.T) {
	page := body(t, get(t, Handler(Options{}), "/"))
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s+type="module")?>`), // a script without src
		regexp.MustCompile(`<script[^>]*>[^<]+</script>`),
		regexp.MustCompile(`\sstyle=`),
		regexp.MustCompile(`<style`),
		regexp.MustCompile(`\son[a-z]+=`),
		regexp.MustCompile(`(?:src|href)="(?:https?:)?//`),
	} {
		if m := bad.FindString(page); m != "" {
			t.Errorf("page has %q", m)
		}
	}
}

func TestHandler_HashedAssetsResolve(t *testing.T) {
	h := Handler(Options{})
	page := body(t, get(t, h, "/"))
	urls := staticURL.FindAllString(page, -1)
	if len(urls) < 3 {
		t.Fatalf("page names %d assets (%v); want the stylesheet, the icon and app.js", len(urls), urls)
	}
	// Follow module imports too: every module must resolve.
	seen := map[string]bool{}
	for len(urls) > 0 {
		u := urls[0]
		urls = urls[1:]
		if seen[u] {
			continue
		}
		seen[u] = true
		if !regexp.MustCompile(`^/static/[a-z]+\.[0-9a-f]{12}\.[a-z]+$`).MatchString(u) {
			t.Errorf("asset URL %q is not content-hashed", u)
		}
		res := get(t, h, u)
		b := body(t, res)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", u, res.StatusCode)
			continue
		}
		if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s Cache-Control = %q", u, cc)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s lacks nosniff", u)
		}
		ct := res.Header.Get("Content-Type")
		switch {
		case strings.HasSuffix(u, ".js"):
			if !strings.HasPrefix(ct, "text/javascript") {
				t.Errorf("GET %s Content-Type = %q", u, ct)
			}
			for _, m := range regexp.MustCompile(`from "\./([^"]+)"`).FindAllStringSubmatch(b, -1) {
				urls = append(urls, "/static/"+m[1])
			}
		case strings.HasSuffix(u, ".css"):
			if !strings.HasPrefix(ct, "text/css") {
				t.Errorf("GET %s Content-Type = %q", u, ct)
			}
		}
	}
	for _, name := range []string{"live", "jobs", "dom", "alerts", "admin"} {
		found := false
		for u := range seen {
			found = found || strings.HasPrefix(u, "/static/"+name+".")
		}
		if !found {
			t.Errorf("module %s.js is not reachable from the page", name)
		}
	}
}

func TestHandler_ConditionalGet(t *testing.T) {
	h := Handler(Options{})
	u := staticURL.FindString(body(t, get(t, h, "/")))
	res := get(t, h, u)
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("asset has no ETag")
	}
	req := httptest.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("If-None-Match", etag)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", rec.Code)
	}
}

func TestHandler_UnknownAsset404(t *testing.T) {
	h := Handler(Options{})
	for _, p := range []string{
		"/static/app.js",              // unhashed
		"/static/app.000000000000.js", // outdated hash
		"/static/nope.css",
		"/static/",
		"/static/..%2fweb.go",
		"/templates/index.html",
		"/web.go",
		"/nope",
	} {
		res := get(t, h, p)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, res.StatusCode)
		}
	}
}

func TestHandler_TitleIsEscaped(t *testing.T) {
	page := body(t, get(t, Handler(Options{Title: `Jobs <script>alert(1)</script>`}), "/"))
	if strings.Contains(page, "<script>alert") {
		t.Fatal("title is not escaped")
	}
	if !strings.Contains(page, "Jobs &lt;script&gt;") {
		t.Fatal("title missing")
	}
	if !strings.Contains(body(t, get(t, Handler(Options{}), "/")), "<title>birjob</title>") {
		t.Fatal("default title missing")
	}
}

func TestHandler_Head(t *testing.T) {
	h := Handler(Options{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("HEAD / = %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST / = %d, want 405", rec.Code)
	}
}

func TestLoadAssets_ImportsAreHashed(t *testing.T) {
	fsys := fstest.MapFS{
		"static/a.js": {Data: []byte("import { b } from \"./b.js\";\nimport \"./c.js\";\nconst x = await import('./c.js');")},
		"static/b.js": {Data: []byte(`export const b = 1;`)},
		"static/c.js": {Data: []byte(`console.log("c");`)},
	}
	first, err := loadAssets(fsys)
	if err != nil {
		t.Fatal(err)
	}
	a := string(first["a.js"].body)
	for _, dep := range []string{"b.js", "c.js"} {
		if !strings.Contains(a, `"./`+first[dep].hashed+`"`) && !strings.Contains(a, `'./`+first[dep].hashed+`'`) {
			t.Errorf("a.js = %q does not import %s by its hashed name %s", a, dep, first[dep].hashed)
		}
	}
	if strings.Contains(a, `"./b.js"`) || strings.Contains(a, `"./c.js"`) {
		t.Errorf("a.js still has unhashed imports: %q", a)
	}

	// Changing a dependency changes the importer's URL too.
	fsys["static/b.js"] = &fstest.MapFile{Data: []byte(`export const b = 2;`)}
	second, err := loadAssets(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if first["b.js"].hashed == second["b.js"].hashed {
		t.Error("b.js hash did not change with its content")
	}
	if first["a.js"].hashed == second["a.js"].hashed {
		t.Error("a.js hash did not change when its import changed")
	}
	if first["c.js"].hashed != second["c.js"].hashed {
		t.Error("c.js hash changed without a change")
	}
}

func TestLoadAssets_Errors(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"cycle": {
			"static/a.js": {Data: []byte(`import "./b.js";`)},
			"static/b.js": {Data: []byte(`import "./a.js";`)},
		},
		"missing import": {
			"static/a.js": {Data: []byte(`import { x } from "./gone.js";`)},
		},
		"nested dir": {
			"static/sub/a.js": {Data: []byte(`1`)},
		},
	} {
		if _, err := loadAssets(fsys); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// The scripts show untrusted text; they must never parse it as HTML.
func TestStatic_NoHTMLInjectionSinks(t *testing.T) {
	sinks := regexp.MustCompile(`\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(`)
	err := fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		if m := sinks.Find(b); m != nil {
			t.Errorf("%s uses %s", p, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestHandler_AssetsGzip(t *testing.T) {
	h := Handler(Options{})
	u := ""
	for _, m := range staticURL.FindAllString(body(t, get(t, h, "/")), -1) {
		if strings.Contains(m, "/app.") {
			u = m
		}
	}
	plain := get(t, h, u)
	plainBody := body(t, plain)
	req := httptest.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept-Encoding", "br, gzip;q=0.8")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", res.Header.Get("Content-Encoding"))
	}
	if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") || !strings.Contains(plain.Header.Get("Vary"), "Accept-Encoding") {
		t.Error("no Vary: Accept-Encoding")
	}
	if res.Header.Get("ETag") == plain.Header.Get("ETag") {
		t.Error("gzip and plain bodies share an ETag")
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if string(unzipped) != plainBody {
		t.Error("gzip body differs from the plain one")
	}
	if plain.Header.Get("Content-Encoding") != "" {
		t.Error("plain request got an encoding")
	}
}

func TestHandler_UnknownAPIPathIsJSON(t *testing.T) {
	h := Handler(Options{})
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(m, "/api/nope", nil))
		if rec.Code != http.StatusNotFound || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") ||
			!strings.Contains(rec.Body.String(), `"error"`) {
			t.Errorf("%s /api/nope = %d %s %q", m, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
		}
	}
}

// TestHandler_ServiceWorkerAtRoot: the worker is served at /sw.js (so its
// scope may be "/"), as JavaScript, revalidated on every update check, and
// its content is static/sw.js.
func TestHandler_ServiceWorkerAtRoot(t *testing.T) {
	h := Handler(Options{})
	res := get(t, h, "/sw.js")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /sw.js = %d", res.StatusCode)
	}
	if got := res.Header.Get("Content-Type"); got != "text/javascript; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	if got := res.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control %q, want no-cache", got)
	}
	want, err := fs.ReadFile(files, "static/sw.js")
	if err != nil {
		t.Fatal(err)
	}
	if got := body(t, res); got != string(want) {
		t.Error("GET /sw.js does not serve static/sw.js")
	}
	etag := res.Header.Get("ETag")
	req := httptest.NewRequest(http.MethodGet, "/sw.js", nil)
	req.Header.Set("If-None-Match", etag)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if etag == "" || rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match %q: status %d, want 304", etag, rec.Code)
	}
}
