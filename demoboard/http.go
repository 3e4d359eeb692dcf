package demoboard

import (
	"bytes"
	"embed"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages holds one parsed template set per page, each with the shared layout.
var pages = func() map[string]*template.Template {
	funcs := template.FuncMap{
		"iso":       func(t time.Time) string { return t.Format(time.RFC3339) },
		"typeLabel": typeLabel,
		"safeHTML":  func(s string) template.HTML { return template.HTML(s) }, // only our own escaped descriptions
	}
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	m := map[string]*template.Template{}
	for _, name := range []string{"list", "detail", "message"} {
		m[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html"))
	}
	return m
}()

// pageData is what every page template sees.
type pageData struct {
	Base  string // BasePath
	Title string
	now   time.Time

	// list
	Jobs        []Posting
	Page, Pages int
	Total       int
	PrevURL     string
	NextURL     string

	// detail
	Job    *Posting
	JSONLD template.JS

	// message pages (404, 410, 400)
	Status  int
	Message string
}

// Ago is t relative to the page's clock, in the board's Azerbaijani prose.
func (d pageData) Ago(t time.Time) string {
	ago := d.now.Sub(t)
	switch {
	case ago < time.Minute:
		return "indicə"
	case ago < time.Hour:
		return fmt.Sprintf("%d dəqiqə əvvəl", int(ago/time.Minute))
	case ago < 24*time.Hour:
		return fmt.Sprintf("%d saat əvvəl", int(ago/time.Hour))
	}
	return fmt.Sprintf("%d gün əvvəl", int(ago/(24*time.Hour)))
}

// Year is the copyright year of the footer.
func (d pageData) Year() int { return d.now.Year() }

func typeLabel(employment string) string {
	switch employment {
	case "full-time":
		return "Tam ştat"
	case "part-time":
		return "Yarım ştat"
	case "contract":
		return "Müqavilə"
	case "internship":
		return "Təcrübə proqramı"
	}
	return employment
}

// ServeHTTP serves the board. Requests may arrive with BasePath still in the
// path (mux.Handle(BasePath+"/", b)) or with it stripped
// (http.StripPrefix(BasePath, b)); links are built under BasePath either way.
func (b *Board) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if bp := b.opts.BasePath; bp != "" && (p == bp || strings.HasPrefix(p, bp+"/")) {
		p = strings.TrimPrefix(p, bp)
	}
	if p == "" {
		p = "/"
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	now := b.opts.Now()
	switch {
	case p == "/":
		http.Redirect(w, r, b.opts.BasePath+"/jobs", http.StatusFound)
	case p == "/jobs" || p == "/jobs/":
		b.serveList(w, r, now)
	case strings.HasPrefix(p, "/jobs/"):
		b.serveDetail(w, r, now, strings.TrimPrefix(p, "/jobs/"))
	case p == "/feed.rss":
		b.serveRSS(w, r, now)
	case p == "/api/jobs.json":
		b.serveAPI(w, r, now)
	case p == "/robots.txt":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "User-agent: *\nDisallow: %s/private/\nAllow: /\n", b.opts.BasePath)
	default:
		b.message(w, now, http.StatusNotFound, "Səhifə tapılmadı / Page not found")
	}
}

// serveList serves /jobs?page=N.
func (b *Board) serveList(w http.ResponseWriter, r *http.Request, now time.Time) {
	page := 1
	if v := r.URL.Query().Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.message(w, now, http.StatusBadRequest, "page must be a whole number from 1 up")
			return
		}
		page = n
	}
	jobs, changed := b.listing(now)
	per := b.opts.PerPage
	pages := max(1, (len(jobs)+per-1)/per)
	d := pageData{Base: b.opts.BasePath, now: now, Page: page, Pages: pages, Total: len(jobs)}
	d.Title = "Vakansiyalar"
	if page > 1 {
		d.Title += fmt.Sprintf(" — səhifə %d", page)
	}
	if page <= pages { // pages beyond the last are empty, not errors
		d.Jobs = jobs[(page-1)*per : min(page*per, len(jobs))]
	}
	listURL := b.opts.BasePath + "/jobs"
	if page > 1 && page <= pages+1 {
		d.PrevURL = listURL
		if page > 2 {
			d.PrevURL += "?page=" + strconv.Itoa(page-1)
		}
	}
	if page < pages {
		d.NextURL = listURL + "?page=" + strconv.Itoa(page+1)
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%d|%d|%d", b.opts.Seed, b.opts.Interval, page, per)
	for _, j := range jobs {
		fmt.Fprintf(h, "|%d", j.K)
	}
	// Weak: the relative times ("5 dəqiqə əvvəl") drift while the list is
	// the same.
	w.Header().Set("ETag", fmt.Sprintf(`W/"list-%x"`, h.Sum64()))
	b.render(w, r, "list", d, http.StatusOK, changed)
}

// serveDetail serves /jobs/{id}: 404 for unknown or future postings, 410
// once expired.
func (b *Board) serveDetail(w http.ResponseWriter, r *http.Request, now time.Time, id string) {
	k, ok := parseID(id)
	if !ok {
		b.message(w, now, http.StatusNotFound, "Belə vakansiya yoxdur / No such job")
		return
	}
	p := b.Posting(k)
	switch {
	case now.Before(p.AppearsAt):
		b.message(w, now, http.StatusNotFound, "Belə vakansiya yoxdur / No such job")
		return
	case !now.Before(p.ExpiresAt):
		b.message(w, now, http.StatusGone, "Bu vakansiya artıq aktiv deyil / This job is no longer available")
		return
	}
	ld, err := json.Marshal(jobPostingLD(p, absBase(r)))
	if err != nil {
		slog.Error("demo board json-ld", "job_id", p.ID, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	d := pageData{Base: b.opts.BasePath, now: now, Title: p.Title + " — " + p.Company, Job: &p, JSONLD: template.JS(ld)}
	w.Header().Set("ETag", fmt.Sprintf(`W/"job-%d-%d"`, b.opts.Seed, p.K))
	b.render(w, r, "detail", d, http.StatusOK, p.AppearsAt)
}

// render executes a page into a buffer and serves it; status 200 pages go
// through http.ServeContent for Last-Modified and conditional GETs.
func (b *Board) render(w http.ResponseWriter, r *http.Request, name string, d pageData, status int, modified time.Time) {
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout.html", d); err != nil {
		slog.Error("demo board template", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if status != http.StatusOK {
		w.WriteHeader(status)
		_, _ = w.Write(buf.Bytes())
		return
	}
	http.ServeContent(w, r, "", modified, bytes.NewReader(buf.Bytes()))
}

func (b *Board) message(w http.ResponseWriter, now time.Time, status int, msg string) {
	d := pageData{Base: b.opts.BasePath, now: now, Title: http.StatusText(status), Status: status, Message: msg}
	b.render(w, nil, "message", d, status, time.Time{})
}

// absBase is the scheme and host the request reached, for absolute links.
func absBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: r.Host}).String()
}

// JSON-LD (schema.org JobPosting).
type (
	ldPosting struct {
		Context            string       `json:"@context"`
		Type               string       `json:"@type"`
		Title              string       `json:"title"`
		Description        string       `json:"description"`
		Identifier         ldIdentifier `json:"identifier"`
		DatePosted         string       `json:"datePosted"`
		ValidThrough       string       `json:"validThrough"`
		EmploymentType     string       `json:"employmentType"`
		HiringOrganization ldOrg        `json:"hiringOrganization"`
		JobLocation        *ldPlace     `json:"jobLocation,omitempty"`
		JobLocationType    string       `json:"jobLocationType,omitempty"`
		ApplicantLocation  *ldCountry   `json:"applicantLocationRequirements,omitempty"`
		BaseSalary         *ldMonetary  `json:"baseSalary,omitempty"`
		URL                string       `json:"url"`
		DirectApply        bool         `json:"directApply"`
		InLanguage         string       `json:"inLanguage,omitempty"`
	}
	ldIdentifier struct {
		Type  string `json:"@type"`
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	ldOrg struct {
		Type string `json:"@type"`
		Name string `json:"name"`
	}
	ldPlace struct {
		Type    string    `json:"@type"`
		Address ldAddress `json:"address"`
	}
	ldAddress struct {
		Type     string `json:"@type"`
		Locality string `json:"addressLocality"`
		Country  string `json:"addressCountry"`
	}
	ldCountry struct {
		Type string `json:"@type"`
		Name string `json:"name"`
	}
	ldMonetary struct {
		Type     string     `json:"@type"`
		Currency string     `json:"currency"`
		Value    ldQuantity `json:"value"`
	}
	ldQuantity struct {
		Type     string   `json:"@type"`
		MinValue *float64 `json:"minValue,omitempty"`
		MaxValue *float64 `json:"maxValue,omitempty"`
		UnitText string   `json:"unitText"`
	}
)

var ldEmployment = map[string]string{
	"full-time": "FULL_TIME", "part-time": "PART_TIME", "contract": "CONTRACTOR", "internship": "INTERN",
}

func jobPostingLD(p Posting, base string) ldPosting {
	ld := ldPosting{
		Context:            "https://schema.org/",
		Type:               "JobPosting",
		Title:              p.Title,
		Description:        p.Description,
		Identifier:         ldIdentifier{Type: "PropertyValue", Name: "Demo Board", Value: p.ID},
		DatePosted:         p.PostedAt.Format(time.RFC3339),
		ValidThrough:       p.ValidThrough.Format(time.RFC3339),
		EmploymentType:     ldEmployment[p.EmploymentType],
		HiringOrganization: ldOrg{Type: "Organization", Name: p.Company},
		URL:                base + p.URL,
		DirectApply:        true,
		InLanguage:         p.Language,
	}
	if p.Location != RemoteLocation {
		ld.JobLocation = &ldPlace{Type: "Place", Address: ldAddress{Type: "PostalAddress", Locality: p.Location, Country: "AZ"}}
	}
	if p.Remote {
		ld.JobLocationType = "TELECOMMUTE"
		ld.ApplicantLocation = &ldCountry{Type: "Country", Name: "Azerbaijan"}
	}
	if s := p.Salary; s != nil {
		q := ldQuantity{Type: "QuantitativeValue", UnitText: strings.ToUpper(s.Period)}
		if s.Min > 0 {
			q.MinValue = &s.Min
		}
		if s.Max > 0 {
			q.MaxValue = &s.Max
		}
		ld.BaseSalary = &ldMonetary{Type: "MonetaryAmount", Currency: s.Currency, Value: q}
	}
	return ld
}

// RSS 2.0.
type (
	rssDoc struct {
		XMLName xml.Name   `xml:"rss"`
		Version string     `xml:"version,attr"`
		Channel rssChannel `xml:"channel"`
	}
	rssChannel struct {
		Title         string    `xml:"title"`
		Link          string    `xml:"link"`
		Description   string    `xml:"description"`
		Language      string    `xml:"language"`
		LastBuildDate string    `xml:"lastBuildDate"`
		Items         []rssItem `xml:"item"`
	}
	rssItem struct {
		Title       string   `xml:"title"`
		Link        string   `xml:"link"`
		GUID        rssGUID  `xml:"guid"`
		PubDate     string   `xml:"pubDate"`
		Description string   `xml:"description"`
		Categories  []string `xml:"category"`
	}
	rssGUID struct {
		IsPermaLink string `xml:"isPermaLink,attr"`
		Value       string `xml:",chardata"`
	}
)

func (b *Board) serveRSS(w http.ResponseWriter, r *http.Request, now time.Time) {
	base := absBase(r)
	jobs, last := b.listing(now)
	doc := rssDoc{Version: "2.0", Channel: rssChannel{
		Title:         "Bakı İş Elanları (demo)",
		Link:          b.StartURL(base),
		Description:   "birjob demo job board: new jobs in Baku every few seconds",
		Language:      "az",
		LastBuildDate: last.In(baku).Format(time.RFC1123Z),
	}}
	for _, p := range jobs {
		desc := p.Summary
		if p.SalaryText != "" {
			desc += " — " + p.SalaryText
		}
		doc.Channel.Items = append(doc.Channel.Items, rssItem{
			Title:       p.Title,
			Link:        base + p.URL,
			GUID:        rssGUID{IsPermaLink: "false", Value: p.ID},
			PubDate:     p.PostedAt.Format(time.RFC1123Z),
			Description: desc,
			Categories:  []string{p.Company, p.Location},
		})
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		slog.Error("demo board rss", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	w.Header().Set("ETag", fmt.Sprintf(`"rss-%x"`, hashBytes(buf.Bytes())))
	http.ServeContent(w, r, "", last, bytes.NewReader(buf.Bytes()))
}

// apiJob is one item of /api/jobs.json.
type apiJob struct {
	ID             string     `json:"id"`
	Title          string     `json:"title"`
	Company        string     `json:"company"`
	Location       string     `json:"location"`
	Remote         bool       `json:"remote"`
	Salary         *apiSalary `json:"salary"`
	SalaryText     string     `json:"salaryText"`
	EmploymentType string     `json:"employmentType"`
	URL            string     `json:"url"`
	PostedAt       string     `json:"postedAt"`
	ValidThrough   string     `json:"validThrough"`
	Description    string     `json:"description"`
}

type apiSalary struct {
	Min      float64 `json:"min,omitempty"`
	Max      float64 `json:"max,omitempty"`
	Currency string  `json:"currency"`
	Period   string  `json:"period"`
}

func (b *Board) serveAPI(w http.ResponseWriter, r *http.Request, now time.Time) {
	base := absBase(r)
	jobs, changed := b.listing(now)
	items := []apiJob{}
	for _, p := range jobs {
		j := apiJob{
			ID: p.ID, Title: p.Title, Company: p.Company, Location: p.Location, Remote: p.Remote,
			SalaryText: p.SalaryText, EmploymentType: p.EmploymentType, URL: base + p.URL,
			PostedAt: p.PostedAt.Format(time.RFC3339), ValidThrough: p.ValidThrough.Format(time.RFC3339),
			Description: p.Description,
		}
		if s := p.Salary; s != nil {
			j.Salary = &apiSalary{Min: s.Min, Max: s.Max, Currency: s.Currency, Period: s.Period}
		}
		items = append(items, j)
	}
	body, err := json.Marshal(map[string]any{"data": map[string]any{"items": items, "total": len(items)}})
	if err != nil {
		slog.Error("demo board api", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("ETag", fmt.Sprintf(`"api-%x"`, hashBytes(body)))
	http.ServeContent(w, r, "", changed, bytes.NewReader(body))
}

func hashBytes(p []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write(p)
	return h.Sum64()
}
