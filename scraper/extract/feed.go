package extract

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
)

// Feed reads an RSS or Atom feed.
func Feed(body string, page *url.URL) (Page, error) {
	var res Page
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
		r := Posting{Base: base, Title: it.Title, URL: it.Link}
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
		res.Jobs = append(res.Jobs, r)
	}
	return res, nil
}

// xmlEncodingDecl matches the encoding of an XML declaration.
var xmlEncodingDecl = regexp.MustCompile(`(?i)^(\s*<\?xml[^>]*encoding\s*=\s*["'])([^"']+)(["'])`)

// FeedBody returns the bytes gofeed should read: when colly has already
// converted the body to UTF-8 (the header named a charset), the XML
// declaration is corrected so that it is not decoded twice.
func FeedBody(body []byte, contentType string) string {
	if strings.Contains(strings.ToLower(contentType), "charset") {
		body = bytes.TrimPrefix(body, []byte("\ufeff"))
		return xmlEncodingDecl.ReplaceAllString(string(body), "${1}utf-8${3}")
	}
	return string(body)
}
