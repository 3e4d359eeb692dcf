package extract

import (
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/scraper/normalize"
)

// JSONLD finds the JobPostings of every JSON-LD block of doc, and
// with the jsonld kind's selectors the detail links and next page.
func JSONLD(doc *goquery.Document, page *url.URL, sel map[string]string) Page {
	var res Page
	base := docBase(doc, page)
	res.Jobs, res.Notes = jsonLDPostings(doc, base)
	if l := strings.TrimSpace(sel["links"]); l != "" {
		css, attr := SplitSelector(l)
		if attr == "" {
			attr = "href"
		}
		seen := map[string]bool{}
		doc.Find(css).Each(func(_ int, s *goquery.Selection) {
			v, _ := s.Attr(attr)
			if v == "" {
				v, _ = s.Find("a[href]").First().Attr("href")
			}
			if link := ResolveLink(base, v); link != "" && !seen[link] {
				seen[link] = true
				res.Links = append(res.Links, link)
			}
		})
	}
	if n := strings.TrimSpace(sel["next"]); n != "" {
		res.Next = ResolveLink(base, selectValue(doc.Selection, "next", n))
	}
	return res
}

// JSONLDPostings returns the JobPostings of every JSON-LD block of a page
// (a detail page), and notes on the blocks it skipped. A posting without
// "url" is taken to live on the page.
func JSONLDPostings(doc *goquery.Document, page *url.URL) ([]Posting, []string) {
	return jsonLDPostings(doc, docBase(doc, page))
}

// jsonLDPostings parses every <script type="application/ld+json"> of doc
// and returns its JobPostings; broken blocks are noted and skipped.
func jsonLDPostings(doc *goquery.Document, base *url.URL) ([]Posting, []string) {
	var jobs []Posting
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

// jobFromPosting maps a JobPosting object to a Posting. Without a url the
// posting is taken to live on the page it was found on.
func jobFromPosting(p map[string]any, base *url.URL) Posting {
	r := Posting{Base: base}
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
