// Package extract turns a fetched page into postings, one file per source
// kind: html.go (CSS selectors), jsonld.go (schema.org JobPosting in
// JSON-LD), feed.go (RSS and Atom) and json.go (JSON APIs, by dotted
// paths). Each yields a Page of Postings: text as found, plus structured
// values where the format has them. Normalize turns a Posting into a
// model.Job. The scraper fetches, decides what to follow and stores; this
// package only reads.
package extract

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html/charset"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/scraper/normalize"
)

// Posting is a posting as extracted, before normalisation: text as found,
// plus structured values where the format has them.
type Posting struct {
	Title, URL, Company, Location, Salary, PostedAt, ValidThrough string
	Description, ExternalID, EmploymentType, Remote               string
	// SalaryV is a structured salary (JSON-LD baseSalary, JSON objects).
	SalaryV *model.Salary
	// IsRemote is set by structured data (jobLocationType TELECOMMUTE).
	IsRemote bool
	// Base is the URL relative links are resolved against.
	Base *url.URL
}

// Page is what one list page yields.
type Page struct {
	// Jobs are the postings found on the page.
	Jobs []Posting
	// Links are detail pages to visit (jsonld kind with a links selector).
	Links []string
	// Next is the next list page ("" for none), absolute.
	Next string
	// Notes say what was skipped and why, for the run's record.
	Notes []string
}

// MergeOver copies the non-empty fields of d over r (detail page data over
// list data). The location is the exception: a list's location is what the
// board shows, a JSON-LD address is often a partial PostalAddress (country
// codes, or the applicant's country for remote jobs), so it only fills an
// empty one.
func (r *Posting) MergeOver(d Posting) {
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

// Normalize turns a Posting into a model.Job. It fails when the title or
// an http(s) URL is missing.
func Normalize(r Posting, now time.Time) (model.Job, error) {
	var j model.Job
	j.Title = normalize.Text(r.Title)
	if j.Title == "" {
		return j, fmt.Errorf("posting without a title (url %q)", clip(r.URL, 100))
	}
	u, err := normalize.CanonicalURL(r.URL, r.Base)
	if err != nil {
		return j, fmt.Errorf("posting %q: %w", clip(j.Title, 60), err)
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

// clip cuts s to n bytes, marking the cut.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// DecodeBody returns a response body as UTF-8 text. Colly has already
// converted bodies whose Content-Type names a charset; the others are
// decoded by BOM, <meta charset> / http-equiv, or UTF-8 validity (else
// windows-1252), as browsers do.
func DecodeBody(body []byte, contentType string) string {
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

// ResolveLink resolves href against base, without its fragment; "" when
// href is empty or not a usable http(s) link.
func ResolveLink(base *url.URL, href string) string {
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
