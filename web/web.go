package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/birjob/birjob/internal/httpx"
)

//go:embed templates static
var files embed.FS

// Options configure the page.
type Options struct {
	// Title is the page's title and heading; DefaultTitle when empty.
	Title string
	// Logger receives template errors; slog.Default() when nil.
	Logger *slog.Logger
}

// DefaultTitle is the page title when Options.Title is empty.
const DefaultTitle = "birjob"

// Header values of the page. The policy allows nothing but this origin: no
// inline script or style, no CDN; img-src allows data: for the favicon.
const (
	ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	// immutableCache is for content-hashed asset URLs: a URL never changes
	// its content, so browsers and proxies may keep it for a year.
	immutableCache = "public, max-age=31536000, immutable"
)

// asset is one embedded static file, ready to serve.
type asset struct {
	name   string // as in static/, e.g. "app.js"
	hashed string // as served under /static/, e.g. "app.1a2b3c4d5e.js"
	body   []byte
	gz     []byte // body gzipped, or nil when that is not smaller
	ctype  string
	etag   string
}

// handler serves the page and the assets.
type handler struct {
	page    *template.Template
	title   string
	log     *slog.Logger
	byName  map[string]*asset
	byURL   map[string]*asset
	modTime time.Time
}

// Handler returns the handler of the page (GET /) and of the static assets
// (GET /static/<name>.<hash>.<ext>). It parses the template and hashes the
// assets once; it panics when the embedded files are broken, which the
// package's tests rule out.
//
// Mount it for "GET /{$}" and "GET /static/", or as the fallback "/" of the
// app's mux.
func Handler(opts Options) http.Handler {
	h := &handler{title: opts.Title, log: opts.Logger, modTime: time.Now()}
	if h.title == "" {
		h.title = DefaultTitle
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	var err error
	if h.byName, err = loadAssets(files); err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	if h.byName["sw.js"] == nil {
		panic("web: static/sw.js, the service worker, is missing")
	}
	h.byURL = make(map[string]*asset, len(h.byName))
	for _, a := range h.byName {
		h.byURL[a.hashed] = a
	}
	h.page, err = template.New("index.html").Funcs(template.FuncMap{
		"asset": h.assetURL,
	}).ParseFS(files, "templates/index.html")
	if err != nil {
		panic(fmt.Sprintf("web: parse template: %v", err))
	}
	// Execute once now so a template that refers to a missing asset fails
	// at start, not on the first visitor.
	if err := h.page.Execute(&bytes.Buffer{}, h.pageData()); err != nil {
		panic(fmt.Sprintf("web: execute template: %v", err))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.serveIndex)
	mux.HandleFunc("GET /static/{file}", h.serveAsset)
	mux.HandleFunc("GET /sw.js", h.serveWorker)
	// Mounted as the app's fallback, this also answers API paths nobody
	// serves: with the API's error shape, not an HTML or text page.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		httpx.Errorf(w, http.StatusNotFound, "no API endpoint %s %s", r.Method, r.URL.Path)
	})
	return mux
}

// assetURL is the template function that names an asset's hashed URL.
func (h *handler) assetURL(name string) (string, error) {
	a, ok := h.byName[name]
	if !ok {
		return "", fmt.Errorf("no asset %q", name)
	}
	return "/static/" + a.hashed, nil
}

func (h *handler) pageData() map[string]any {
	return map[string]any{"Title": h.title}
}

func setSecurityHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
}

func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := h.page.Execute(&buf, h.pageData()); err != nil {
		h.log.Error("render page", "err", err)
		http.Error(w, "the page could not be rendered; it has been logged", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	setSecurityHeaders(hd)
	hd.Set("Content-Type", "text/html; charset=utf-8")
	// The page names the current asset hashes, so it must be revalidated.
	hd.Set("Cache-Control", "no-cache")
	_, _ = w.Write(buf.Bytes())
}

func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := h.byURL[r.PathValue("file")]
	if !ok {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.Error(w, "no such asset", http.StatusNotFound)
		return
	}
	hd := w.Header()
	setSecurityHeaders(hd)
	hd.Set("Content-Type", a.ctype)
	hd.Set("Cache-Control", immutableCache)
	body, etag := a.body, a.etag
	if a.gz != nil {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body, etag = a.gz, strings.TrimSuffix(a.etag, `"`)+`-gz"`
			hd.Set("Content-Encoding", "gzip")
		}
	}
	hd.Set("ETag", etag)
	http.ServeContent(w, r, a.hashed, h.modTime, bytes.NewReader(body))
}

// serveWorker serves static/sw.js at /sw.js: a service worker's scope is
// at most the folder of its script's URL, and birjob's worker must cover
// "/" (its tabs, and the page a notification opens). Its URL cannot carry a
// hash (a registration names one script URL for good), so it is sent with
// "Cache-Control: no-cache": the browser's update check (on every
// navigation, at most once a day without it) sees a new worker at once.
func (h *handler) serveWorker(w http.ResponseWriter, r *http.Request) {
	a := h.byName["sw.js"]
	hd := w.Header()
	setSecurityHeaders(hd)
	hd.Set("Content-Type", a.ctype)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	http.ServeContent(w, r, "sw.js", h.modTime, bytes.NewReader(a.body))
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			return strings.ReplaceAll(params, " ", "") != "q=0"
		}
	}
	return false
}

// importRE finds the relative module specifiers of a JavaScript file:
// `from "./x.js"`, `import "./x.js"` and `import("./x.js")`.
var importRE = regexp.MustCompile(`((?:\bfrom|\bimport)\s*\(?\s*)(["'])\./([A-Za-z0-9_-]+\.js)(["'])`)

// loadAssets reads static/ and gives every file a content-hashed name.
// JavaScript modules import each other as "./name.js"; those specifiers are
// rewritten to the hashed names, so a module's hash covers the modules it
// imports and a change anywhere gives new URLs up the import chain.
func loadAssets(fsys fs.FS) (map[string]*asset, error) {
	raw := map[string][]byte{}
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.Contains(strings.TrimPrefix(p, "static/"), "/") {
			return fmt.Errorf("asset %s: static/ must be flat", p)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		raw[path.Base(p)] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read assets: %w", err)
	}
	out := make(map[string]*asset, len(raw))
	visiting := map[string]bool{}
	var resolve func(name string) (*asset, error)
	resolve = func(name string) (*asset, error) {
		if a, ok := out[name]; ok {
			return a, nil
		}
		body, ok := raw[name]
		if !ok {
			return nil, fmt.Errorf("no asset %q", name)
		}
		if visiting[name] {
			return nil, fmt.Errorf("asset %s: import cycle", name)
		}
		visiting[name] = true
		defer delete(visiting, name)
		if strings.HasSuffix(name, ".js") {
			var rerr error
			body = importRE.ReplaceAllFunc(body, func(m []byte) []byte {
				sub := importRE.FindSubmatch(m)
				dep, err := resolve(string(sub[3]))
				if err != nil {
					rerr = fmt.Errorf("asset %s imports: %w", name, err)
					return m
				}
				return fmt.Appendf(nil, "%s%s./%s%s", sub[1], sub[2], dep.hashed, sub[4])
			})
			if rerr != nil {
				return nil, rerr
			}
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])[:12]
		ext := path.Ext(name)
		a := &asset{
			name:   name,
			hashed: strings.TrimSuffix(name, ext) + "." + hash + ext,
			body:   body,
			ctype:  contentType(ext),
			etag:   `"` + hash + `"`,
		}
		a.gz = gzipped(body)
		out[name] = a
		return a, nil
	}
	for name := range raw {
		if _, err := resolve(name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// gzipped compresses b once at start; nil when that saves nothing.
func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil
	}
	if _, err := zw.Write(b); err != nil || zw.Close() != nil {
		return nil
	}
	if buf.Len() >= len(b) {
		return nil
	}
	return buf.Bytes()
}

func contentType(ext string) string {
	switch ext {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}
