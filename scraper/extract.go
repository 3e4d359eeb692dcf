package scraper

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html/charset"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/scraper/normalize"
)

// rawJob is a posting as extracted, before normalisation: text as found,
// plus structured values where the format has them.
type rawJob struct {
	Title, URL, Company, Location, Salary, PostedAt, ValidThrough string
	Description, ExternalID, EmploymentType, Remote               string
	// SalaryV is a structured salary (JSON-LD baseSalary, JSON objects).
	SalaryV *model.Salary
	// IsRemote is set by structured data (jobLocationType TELECOMMUTE).
	IsRemote bool
	// Base is the URL relative links are resolved against.
	Base *url.URL
}

// mergeOver copies the non-empty fields of d over r (detail page data over
// list data). The location is the exception: a list's location is what the
// board shows, a JSON-LD address is often a partial PostalAddress (country
// codes, or the applicant's country for remote jobs), so it only fills an
// empty one.
func (r *rawJob) mergeOver(d rawJob) {
	set := func(dst *string, v string) {
		if strings.TrimSpace(v) != "" {
			*dst = v
		}
	}
	set(&r.Title, d.Title)
	set(&r.Company, d.Company)
	if strings.TrimSpace(r.Location) == "" {
		r.Location = d.Location
	}
	set(&r.Salary, d.Salary)
	set(&r.PostedAt, d.PostedAt)
	set(&r.ValidThrough, d.ValidThrough)
	set(&r.Description, d.Description)
	set(&r.ExternalID, d.ExternalID)
	set(&r.EmploymentType, d.EmploymentType)
	set(&r.Remote, d.Remote)
	if d.SalaryV != nil {
		r.SalaryV = d.SalaryV
	}
	r.IsRemote = r.IsRemote || d.IsRemote
}

// normalizeJob turns a rawJob into a model.Job. It fails when the title or
// an http(s) URL is missing.
func normalizeJob(r rawJob, now time.Time) (model.Job, error) {
	var j model.Job
	j.Title = normalize.Text(r.Title)
	if j.Title == "" {
		return j, fmt.Errorf("posting without a title (url %q)", clipStr(r.URL, 100))
	}
	u, err := normalize.CanonicalURL(r.URL, r.Base)
	if err != nil {
		return j, fmt.Errorf("posting %q: %w", clipStr(j.Title, 60), err)
	}
	j.URL = u
	j.ExternalID = normalize.Text(r.ExternalID)
	j.Company = normalize.Text(r.Company)
	j.Location = normalize.Text(r.Location)
	j.Description = normalize.Description(r.Description)
	j.EmploymentType = normalize.EmploymentType(r.EmploymentType)
	if r.SalaryV != nil && !r.SalaryV.IsZero() {
		s := *r.SalaryV
		j.Salary = &s
	} else if s, ok := normalize.ParseSalary(r.Salary); ok {
		j.Salary = &s
	} else if s, ok := normalize.FindSalary(j.Title); ok {
		j.Salary = &s
	} else if s, ok := normalize.FindSalary(j.Description); ok {
		j.Salary = &s
	}
	if j.Salary != nil {
		s := normalize.InferPeriod(*j.Salary)
		j.Salary = &s
	}
	j.Remote = r.IsRemote || normalize.IsRemote(r.Remote, j.Location, j.Title)
	if r.Remote != "" {
		switch strings.ToLower(strings.TrimSpace(r.Remote)) {
		case "true", "yes", "1", "bəli", "да":
			j.Remote = true
		}
	}
	if t, ok := normalize.ParseDate(r.PostedAt, now); ok {
		j.PostedAt = &t
	}
	if t, ok := normalize.ParseDate(r.ValidThrough, now); ok {
		j.ValidThrough = &t
	}
	return j, nil
}

func clipStr(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// decodeBody returns a response body as UTF-8 text. Colly has already
// converted bodies whose Content-Type names a charset; the others are
// decoded by BOM, <meta charset> / http-equiv, or UTF-8 validity (else
// windows-1252), as browsers do.
func decodeBody(body []byte, contentType string) string {
	lct := strings.ToLower(contentType)
	if !strings.Contains(lct, "charset") {
		ct := contentType
		if ct == "" {
			ct = "text/html"
		}
		e, name, certain := charset.DetermineEncoding(body, ct)
		if !certain && name != "utf-8" {
			// The standard prescan reads 1024 bytes; real pages put
			// <meta charset> after kilobytes of scripts and styles.
			if m := metaCharset.FindSubmatch(body[:min(len(body), 64<<10)]); m != nil {
				if le, lname := charset.Lookup(string(m[1])); le != nil {
					e, name = le, lname
				}
			}
		}
		if name != "utf-8" {
			if out, err := e.NewDecoder().Bytes(body); err == nil {
				body = out
			}
		}
	}
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	return strings.ToValidUTF8(string(body), "\uFFFD")
}

// metaCharset finds a <meta charset> or http-equiv Content-Type charset.
var metaCharset = regexp.MustCompile(`(?i)<meta[^>]+charset\s*=\s*["']?\s*([a-z0-9_:.-]+)`)

// docBase returns the URL links of doc resolve against: <base href> when
// present, else the page's URL.
func docBase(doc *goquery.Document, page *url.URL) *url.URL {
	if href, ok := doc.Find("base[href]").First().Attr("href"); ok {
		if u, err := page.Parse(strings.TrimSpace(href)); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			return u
		}
	}
	return page
}

// selectValue applies "css@attr" / "@attr" / "css" to sel. For the keys
// url and next a bare CSS selector reads href; description reads inner
// HTML (turned into text later).
func selectValue(sel *goquery.Selection, key, spec string) string {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return ""
	}
	css, attr := splitSelector(spec)
	target := sel
	if css != "" {
		target = sel.Find(css)
		if target.Length() == 0 && sel.Is(css) {
			target = sel
		}
		target = target.First()
	}
	if target.Length() == 0 {
		return ""
	}
	if attr != "" {
		v, _ := target.Attr(attr)
		return v
	}
	switch key {
	case "url", "next", "links":
		if v, ok := target.Attr("href"); ok {
			return v
		}
		if v, ok := target.Find("a[href]").First().Attr("href"); ok {
			return v
		}
	case "description":
		h, err := target.Html()
		if err == nil {
			return h
		}
	case "postedAt", "validThrough":
		if v, ok := target.Attr("datetime"); ok && strings.TrimSpace(v) != "" {
			return v
		}
	}
	return target.Text()
}

// pageResult is what one list page yields.
type pageResult struct {
	jobs []rawJob
	// links are detail pages to visit (jsonld kind with a links selector).
	links []string
	next  string
	notes []string
}

// extractHTMLList extracts the items of an html-kind list page.
func extractHTMLList(doc *goquery.Document, page *url.URL, sel map[string]string) pageResult {
	var res pageResult
	base := docBase(doc, page)
	items := doc.Find(sel["item"])
	items.Each(func(_ int, it *goquery.Selection) {
		r := rawJob{Base: base}
		r.Title = selectValue(it, "title", sel["title"])
		r.URL = selectValue(it, "url", sel["url"])
		r.Company = selectValue(it, "company", sel["company"])
		r.Location = selectValue(it, "location", sel["location"])
		r.Salary = selectValue(it, "salary", sel["salary"])
		r.PostedAt = selectValue(it, "postedAt", sel["postedAt"])
		r.ValidThrough = selectValue(it, "validThrough", sel["validThrough"])
		r.Description = selectValue(it, "description", sel["description"])
		r.ExternalID = selectValue(it, "externalId", sel["externalId"])
		r.EmploymentType = selectValue(it, "employmentType", sel["employmentType"])
		r.Remote = selectValue(it, "remote", sel["remote"])
		// Boards move things around: without a url, take the item's own
		// link or its first one; without a title, that link's text.
		if strings.TrimSpace(r.URL) == "" {
			if v, ok := it.Attr("href"); ok {
				r.URL = v
			} else if a := it.Find("a[href]").First(); a.Length() > 0 {
				r.URL, _ = a.Attr("href")
				if strings.TrimSpace(r.Title) == "" {
					r.Title = a.Text()
				}
			}
		}
		if strings.TrimSpace(r.Title) == "" && strings.TrimSpace(r.URL) == "" {
			return // an ad or a separator that matched the item selector
		}
		res.jobs = append(res.jobs, r)
	})
	if items.Length() == 0 {
		res.notes = append(res.notes, fmt.Sprintf("%s: the item selector %q matched nothing", page, sel["item"]))
	}
	if n := strings.TrimSpace(sel["next"]); n != "" {
		res.next = resolveLink(base, selectValue(doc.Selection, "next", n))
	}
	return res
}

func resolveLink(base *url.URL, href string) string {
	if strings.TrimSpace(href) == "" {
		return ""
	}
	u, err := normalize.ResolveURL(href, base)
	if err != nil {
		return ""
	}
	u.Fragment = ""
	return u.String()
}

// extractJSONLDPage finds the JobPostings of every JSON-LD block of doc, and
// with the jsonld kind's selectors the detail links and next page.
func extractJSONLDPage(doc *goquery.Document, page *url.URL, sel map[string]string) pageResult {
	var res pageResult
	base := docBase(doc, page)
	res.jobs, res.notes = jsonLDPostings(doc, base)
	if l := strings.TrimSpace(sel["links"]); l != "" {
		css, attr := splitSelector(l)
		if attr == "" {
			attr = "href"
		}
		seen := map[string]bool{}
		doc.Find(css).Each(func(_ int, s *goquery.Selection) {
			v, _ := s.Attr(attr)
			if v == "" {
				v, _ = s.Find("a[href]").First().Attr("href")
			}
			if link := resolveLink(base, v); link != "" && !seen[link] {
				seen[link] = true
				res.links = append(res.links, link)
			}
		})
	}
	if n := strings.TrimSpace(sel["next"]); n != "" {
		res.next = resolveLink(base, selectValue(doc.Selection, "next", n))
	}
	return res
}

// jsonLDPostings parses every <script type="application/ld+json"> of doc
// and returns its JobPostings; broken blocks are noted and skipped.
func jsonLDPostings(doc *goquery.Document, base *url.URL) ([]rawJob, []string) {
	var jobs []rawJob
	var notes []string
	doc.Find("script").Each(func(i int, s *goquery.Selection) {
		t, _ := s.Attr("type")
		mt, _, _ := mime.ParseMediaType(strings.TrimSpace(t))
		if mt != "application/ld+json" && !strings.Contains(strings.ToLower(t), "ld+json") {
			return
		}
		v, err := ParseLenientJSON([]byte(s.Text()))
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: JSON-LD block %d skipped: %v", base, i+1, err))
			return
		}
		for _, p := range FindJobPostings(v) {
			jobs = append(jobs, jobFromPosting(p, base))
		}
	})
	return jobs, notes
}

// FindJobPostings returns every schema.org JobPosting object inside a
// parsed JSON-LD value: top-level objects, arrays, @graph, and postings
// nested in other objects (ItemList elements, mainEntity, ...).
func FindJobPostings(v any) []map[string]any {
	var out []map[string]any
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 12 || len(out) > 5000 {
			return
		}
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e, depth+1)
			}
		case map[string]any:
			if isJobPosting(x["@type"]) {
				out = append(out, x)
				return
			}
			for k, e := range x {
				if k == "@context" {
					continue
				}
				walk(e, depth+1)
			}
		}
	}
	walk(v, 0)
	return out
}

func isJobPosting(t any) bool {
	switch x := t.(type) {
	case string:
		x = strings.TrimSpace(x)
		return strings.EqualFold(x, "JobPosting") || strings.HasSuffix(strings.ToLower(x), "/jobposting") || strings.EqualFold(x, "schema:JobPosting")
	case []any:
		for _, e := range x {
			if isJobPosting(e) {
				return true
			}
		}
	}
	return false
}

// str reads a JSON-LD value as text: strings as they are, numbers
// formatted, objects by their name / value / @value / @id, arrays by their
// first readable element.
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case map[string]any:
		for _, k := range []string{"name", "value", "@value", "text", "@id", "url"} {
			if s := str(x[k]); s != "" {
				return s
			}
		}
	case []any:
		for _, e := range x {
			if s := str(e); s != "" {
				return s
			}
		}
	}
	return ""
}

// idStr reads an identifier: text, or a PropertyValue's value.
func idStr(v any) string {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range []string{"value", "@value", "@id", "name"} {
			if s := str(x[k]); s != "" {
				return s
			}
		}
		return ""
	case []any:
		for _, e := range x {
			if s := idStr(e); s != "" {
				return s
			}
		}
		return ""
	}
	return str(v)
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		if x > 0 && x < 1e9 {
			return x
		}
	case string:
		if s, ok := normalize.ParseSalary(x); ok {
			if s.Min > 0 {
				return s.Min
			}
			return s.Max
		}
	case map[string]any:
		return num(x["@value"])
	}
	return 0
}

// addressText formats a schema.org Place / PostalAddress / text.
func addressText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var parts []string
		for _, e := range x {
			if s := addressText(e); s != "" && !containsStr(parts, s) {
				parts = append(parts, s)
			}
			if len(parts) >= 5 {
				break
			}
		}
		return strings.Join(parts, "; ")
	case map[string]any:
		if a, ok := x["address"]; ok {
			if s := addressText(a); s != "" {
				return s
			}
		}
		var parts []string
		for _, k := range []string{"addressLocality", "addressRegion", "addressCountry"} {
			if s := strings.TrimSpace(str(x[k])); s != "" && !containsStr(parts, s) {
				parts = append(parts, s)
			}
		}
		if len(parts) > 0 {
			return strings.Join(parts, ", ")
		}
		return str(x["name"])
	}
	return ""
}

func containsStr(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// jsonLDSalary reads baseSalary / estimatedSalary (MonetaryAmount with a
// QuantitativeValue, a bare number, or text).
func jsonLDSalary(p map[string]any) (*model.Salary, string) {
	for _, key := range []string{"baseSalary", "estimatedSalary", "salary"} {
		v, ok := p[key]
		if !ok {
			continue
		}
		if arr, ok := v.([]any); ok && len(arr) > 0 {
			v = arr[0]
		}
		switch x := v.(type) {
		case string:
			return nil, x
		case float64:
			return &model.Salary{Min: x, Max: x, Currency: strings.ToUpper(str(p["salaryCurrency"]))}, ""
		case map[string]any:
			s := &model.Salary{Currency: strings.ToUpper(strings.TrimSpace(str(x["currency"])))}
			if s.Currency == "" {
				s.Currency = strings.ToUpper(strings.TrimSpace(str(p["salaryCurrency"])))
			}
			val := x["value"]
			unit := str(x["unitText"])
			switch q := val.(type) {
			case map[string]any:
				s.Min, s.Max = num(q["minValue"]), num(q["maxValue"])
				if s.Min == 0 && s.Max == 0 {
					v := num(q["value"])
					s.Min, s.Max = v, v
				}
				if u := str(q["unitText"]); u != "" {
					unit = u
				}
			case string:
				if ps, ok := normalize.ParseSalary(q); ok {
					s.Min, s.Max = ps.Min, ps.Max
					if s.Currency == "" {
						s.Currency = ps.Currency
					}
				}
			default:
				v := num(val)
				s.Min, s.Max = v, v
			}
			if s.Min == 0 && s.Max == 0 {
				s.Min, s.Max = num(x["minValue"]), num(x["maxValue"])
			}
			s.Period = unitPeriod(unit)
			if s.Max > 0 && s.Min > s.Max {
				s.Min, s.Max = s.Max, s.Min
			}
			if !s.IsZero() {
				return s, ""
			}
		}
	}
	return nil, ""
}

func unitPeriod(u string) string {
	switch strings.ToUpper(strings.TrimSpace(u)) {
	case "HOUR", "HOURLY", "PER HOUR":
		return "hour"
	case "DAY", "DAILY":
		return "day"
	case "WEEK", "WEEKLY":
		return "week"
	case "MONTH", "MONTHLY":
		return "month"
	case "YEAR", "YEARLY", "ANNUAL", "ANNUALLY", "ANNUM":
		return "year"
	}
	return ""
}

// jobFromPosting maps a JobPosting object to a rawJob. Without a url the
// posting is taken to live on the page it was found on.
func jobFromPosting(p map[string]any, base *url.URL) rawJob {
	r := rawJob{Base: base}
	r.Title = str(p["title"])
	if r.Title == "" {
		r.Title = str(p["name"])
	}
	r.URL = str(p["url"])
	if r.URL == "" {
		if id := str(p["@id"]); strings.HasPrefix(id, "http") {
			r.URL = id
		} else if base != nil {
			r.URL = base.String()
		}
	}
	r.Company = str(p["hiringOrganization"])
	r.Location = addressText(p["jobLocation"])
	if r.Location == "" {
		r.Location = addressText(p["applicantLocationRequirements"])
	}
	r.SalaryV, r.Salary = jsonLDSalary(p)
	r.PostedAt = str(p["datePosted"])
	r.ValidThrough = str(p["validThrough"])
	r.Description = str(p["description"])
	r.ExternalID = idStr(p["identifier"])
	if et, ok := p["employmentType"].([]any); ok {
		var parts []string
		for _, e := range et {
			parts = append(parts, str(e))
		}
		r.EmploymentType = strings.Join(parts, ", ")
	} else {
		r.EmploymentType = str(p["employmentType"])
	}
	lt := strings.ToUpper(str(p["jobLocationType"]))
	r.IsRemote = strings.Contains(lt, "TELECOMMUTE") || strings.Contains(lt, "REMOTE")
	return r
}

// extractFeed reads an RSS or Atom feed.
func extractFeed(body string, page *url.URL) (pageResult, error) {
	var res pageResult
	feed, err := gofeed.NewParser().ParseString(body)
	if err != nil {
		return res, fmt.Errorf("%s: not a readable RSS/Atom feed: %w", page, err)
	}
	base := page
	if feed.Link != "" {
		if u, err := page.Parse(feed.Link); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			base = u
		}
	}
	for _, it := range feed.Items {
		if it == nil {
			continue
		}
		r := rawJob{Base: base, Title: it.Title, URL: it.Link}
		if r.URL == "" && len(it.Links) > 0 {
			r.URL = it.Links[0]
		}
		if r.URL == "" && strings.HasPrefix(it.GUID, "http") {
			r.URL = it.GUID
		}
		r.ExternalID = it.GUID
		r.Description = it.Description
		if len(it.Content) > len(it.Description) {
			r.Description = it.Content
		}
		if it.Author != nil {
			r.Company = it.Author.Name
		} else if len(it.Authors) > 0 && it.Authors[0] != nil {
			r.Company = it.Authors[0].Name
		}
		if it.PublishedParsed != nil {
			r.PostedAt = it.PublishedParsed.Format(time.RFC3339)
		} else if it.UpdatedParsed != nil {
			r.PostedAt = it.UpdatedParsed.Format(time.RFC3339)
		} else {
			r.PostedAt = it.Published
		}
		r.EmploymentType = strings.Join(it.Categories, ", ")
		r.Remote = strings.Join(it.Categories, ", ")
		// Job feeds often carry extra elements (<job:company>,
		// <location>); read the common ones.
		for k, v := range it.Custom {
			switch strings.ToLower(k) {
			case "company":
				r.Company = v
			case "location":
				r.Location = v
			case "salary":
				r.Salary = v
			case "type", "employmenttype", "jobtype":
				r.EmploymentType = v
			}
		}
		for _, exts := range it.Extensions {
			for name, list := range exts {
				if len(list) == 0 {
					continue
				}
				v := list[0].Value
				switch strings.ToLower(name) {
				case "company", "hiringorganization", "employer":
					r.Company = v
				case "location", "joblocation", "city":
					r.Location = v
				case "salary", "basesalary":
					r.Salary = v
				case "type", "jobtype", "employmenttype":
					r.EmploymentType = v
				case "validthrough", "expires", "expirationdate":
					r.ValidThrough = v
				}
			}
		}
		res.jobs = append(res.jobs, r)
	}
	return res, nil
}

// xmlEncodingDecl matches the encoding of an XML declaration.
var xmlEncodingDecl = regexp.MustCompile(`(?i)^(\s*<\?xml[^>]*encoding\s*=\s*["'])([^"']+)(["'])`)

// feedBody returns the bytes gofeed should read: when colly has already
// converted the body to UTF-8 (the header named a charset), the XML
// declaration is corrected so that it is not decoded twice.
func feedBody(body []byte, contentType string) string {
	if strings.Contains(strings.ToLower(contentType), "charset") {
		body = bytes.TrimPrefix(body, []byte("\ufeff"))
		return xmlEncodingDecl.ReplaceAllString(string(body), "${1}utf-8${3}")
	}
	return string(body)
}

// jsonPath walks a dotted path ("data.items", "company.name", "tags.0")
// through a parsed JSON document. An empty path is the document itself.
func jsonPath(v any, path string) any {
	path = strings.TrimSpace(path)
	if path == "" || path == "." || path == "$" {
		return v
	}
	path = strings.TrimPrefix(strings.TrimPrefix(path, "$."), ".")
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// extractJSON reads a json-kind document: the array at selectors["items"]
// and each field as a path inside an item.
func extractJSON(body string, page *url.URL, sel map[string]string) (pageResult, error) {
	var res pageResult
	var doc any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		v, lerr := ParseLenientJSON([]byte(body))
		if lerr != nil {
			return res, fmt.Errorf("%s: not valid JSON: %w", page, err)
		}
		doc = v
	}
	items, ok := jsonPath(doc, sel["items"]).([]any)
	if !ok {
		return res, fmt.Errorf("%s: the items path %q does not lead to an array", page, sel["items"])
	}
	field := func(it any, key string) any {
		if p := strings.TrimSpace(sel[key]); p != "" {
			return jsonPath(it, p)
		}
		return nil
	}
	text := func(it any, key string) string {
		v := field(it, key)
		if f, ok := v.(float64); ok {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		if a, ok := v.([]any); ok {
			var parts []string
			for _, e := range a {
				if s := str(e); s != "" {
					parts = append(parts, s)
				}
			}
			return strings.Join(parts, ", ")
		}
		return str(v)
	}
	for _, it := range items {
		r := rawJob{Base: page}
		r.Title = text(it, "title")
		r.URL = text(it, "url")
		r.Company = text(it, "company")
		r.Location = text(it, "location")
		r.PostedAt = text(it, "postedAt")
		r.ValidThrough = text(it, "validThrough")
		r.Description = text(it, "description")
		r.ExternalID = text(it, "externalId")
		r.EmploymentType = text(it, "employmentType")
		r.Remote = text(it, "remote")
		switch sv := field(it, "salary").(type) {
		case map[string]any:
			s := &model.Salary{
				Min:      num(firstOf(sv, "min", "minValue", "from", "salaryMin")),
				Max:      num(firstOf(sv, "max", "maxValue", "to", "salaryMax")),
				Currency: strings.ToUpper(str(firstOf(sv, "currency", "curr"))),
				Period:   unitPeriod(str(firstOf(sv, "period", "unit", "unitText"))),
			}
			if p := strings.ToLower(str(firstOf(sv, "period", "unit", "unitText"))); s.Period == "" {
				s.Period = map[string]string{"hour": "hour", "day": "day", "week": "week", "month": "month", "year": "year"}[p]
			}
			if !s.IsZero() {
				r.SalaryV = s
			}
		default:
			r.Salary = text(it, "salary")
		}
		if r.SalaryV == nil && (sel["salaryMin"] != "" || sel["salaryMax"] != "") {
			s := &model.Salary{Min: num(field(it, "salaryMin")), Max: num(field(it, "salaryMax")),
				Currency: strings.ToUpper(text(it, "salaryCurrency")), Period: unitPeriod(text(it, "salaryPeriod"))}
			if !s.IsZero() {
				r.SalaryV = s
			}
		}
		res.jobs = append(res.jobs, r)
	}
	if n := strings.TrimSpace(sel["next"]); n != "" {
		res.next = resolveLink(page, str(jsonPath(doc, n)))
	}
	return res, nil
}

func firstOf(m map[string]any, keys ...string) any {
	for _, k := range keys {
		if v, ok := m[k]; ok && v != nil {
			return v
		}
	}
	return nil
}
