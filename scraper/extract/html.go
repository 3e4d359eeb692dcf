package extract

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
)

// HTML extracts the postings of an html-kind list page: one per element
// matching sel["item"], each field read inside it by its selector (see
// selectValue), and the next page by sel["next"].
func HTML(doc *goquery.Document, page *url.URL, sel map[string]string) Page {
	var res Page
	base := docBase(doc, page)
	items := doc.Find(sel["item"])
	items.Each(func(_ int, it *goquery.Selection) {
		r := Posting{Base: base}
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
		res.Jobs = append(res.Jobs, r)
	})
	if items.Length() == 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%s: the item selector %q matched nothing", page, sel["item"]))
	}
	if n := strings.TrimSpace(sel["next"]); n != "" {
		res.Next = ResolveLink(base, selectValue(doc.Selection, "next", n))
	}
	return res
}

// selectValue applies "css@attr" / "@attr" / "css" to sel. For the keys
// url and next a bare CSS selector reads href; description reads inner
// HTML (turned into text later).
func selectValue(sel *goquery.Selection, key, spec string) string {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return ""
	}
	css, attr := SplitSelector(spec)
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

// SplitSelector splits "h2 a@href" into ("h2 a", "href"); "@data-id" into
// ("", "data-id"). An "@" inside brackets (attribute selectors) is part of
// the CSS.
func SplitSelector(v string) (css, attr string) {
	v = strings.TrimSpace(v)
	depth := 0
	for i := len(v) - 1; i >= 0; i-- {
		switch v[i] {
		case ']', ')':
			depth++
		case '[', '(':
			depth--
		case '@':
			if depth == 0 {
				a := strings.TrimSpace(v[i+1:])
				if a != "" && !strings.ContainsAny(a, " >+~[]():.#") {
					return strings.TrimSpace(v[:i]), a
				}
			}
		}
	}
	return v, ""
}
