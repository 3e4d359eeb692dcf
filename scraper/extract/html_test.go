package extract

import (
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func FuzzExtractHTMLList(f *testing.F) {
	f.Add(`<li class="job" data-id="1"><h2><a href="/a?utm_source=x">A &amp; B</a></h2><span class="pay">from 1500 AZN</span></li><a class="next" href="?p=2">n</a>`)
	f.Add(`<li class="job"><h2><a href="javascript:alert(1)">x</a></h2></li><li class="job"><h2>`)
	base, _ := url.Parse("https://example.com/list")
	sel := map[string]string{"item": "li.job", "title": "h2", "url": "h2 a@href", "salary": ".pay", "externalId": "@data-id", "next": "a.next@href"}
	f.Fuzz(func(t *testing.T, page string) {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
		if err != nil {
			return
		}
		res := HTML(doc, base, sel)
		for _, r := range res.Jobs {
			Normalize(r, fixedNow)
		}
		if res.Next != "" && !strings.HasPrefix(res.Next, "http") {
			t.Fatalf("next = %q", res.Next)
		}
	})
}

func TestSplitSelector(t *testing.T) {
	tests := []struct{ in, css, attr string }{
		{"h2.title a@href", "h2.title a", "href"},
		{"@data-id", "", "data-id"},
		{"time.posted@datetime", "time.posted", "datetime"},
		{"a[href*='@']", "a[href*='@']", ""},
		{"a[data-x='1']@data-y", "a[data-x='1']", "data-y"},
		{".salary", ".salary", ""},
	}
	for _, tt := range tests {
		css, attr := SplitSelector(tt.in)
		if css != tt.css || attr != tt.attr {
			t.Errorf("SplitSelector(%q) = %q, %q", tt.in, css, attr)
		}
	}
}
