package scraper

import (
	"context"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

func TestParseLenientJSON(t *testing.T) {
	tests := map[string]string{
		"strict":          `{"@type":"JobPosting","title":"A"}`,
		"comments":        "{\n// c\n\"@type\": \"JobPosting\", /* x */ \"title\": \"A\"}",
		"trailing commas": `{"@type":"JobPosting","title":"A",}`,
		"nested trailing": `[{"@type":"JobPosting","title":"A","x":[1,2,],},]`,
		"raw newline":     "{\"@type\":\"JobPosting\",\"title\":\"A\",\"description\":\"line1\nline2\ttab\"}",
		"html comment":    "<!--\n{\"@type\":\"JobPosting\",\"title\":\"A\"}\n-->",
		"cdata":           "//<![CDATA[\n{\"@type\":\"JobPosting\",\"title\":\"A\"}\n//]]>",
		"bom":             "\ufeff{\"@type\":\"JobPosting\",\"title\":\"A\"}",
		"two values":      `{"@type":"Organization"} {"@type":"JobPosting","title":"A"}`,
		"slash in string": `{"@type":"JobPosting","title":"A","url":"https://x.example/a//b", "c": "/* not a comment */",}`,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			v, err := ParseLenientJSON([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			ps := FindJobPostings(v)
			if len(ps) != 1 || str(ps[0]["title"]) != "A" {
				t.Fatalf("postings = %v", ps)
			}
			if name == "slash in string" && (str(ps[0]["url"]) != "https://x.example/a//b" || str(ps[0]["c"]) != "/* not a comment */") {
				t.Errorf("string content changed: %v", ps[0])
			}
		})
	}
	if _, err := ParseLenientJSON([]byte(`{"a": broken`)); err == nil {
		t.Error("garbage accepted")
	}
}

func FuzzParseLenientJSON(f *testing.F) {
	for _, s := range []string{
		`{"@type":"JobPosting","title":"A",}`,
		"{\"@graph\":[{\"@type\":[\"JobPosting\"],\"title\":\"x\n\"}]}",
		"<!-- [ {\"@type\":\"JobPosting\"}, ] -->",
		`/* */ {"a": [1, 2, ], // x` + "\n}",
		`{"@type":"JobPosting","baseSalary":{"value":{"minValue":"1,500","maxValue":2000,"unitText":"MONTH"}},"jobLocation":[{"address":{"addressLocality":"Baku"}}],"identifier":{"value":7}}`,
	} {
		f.Add([]byte(s))
	}
	base, _ := url.Parse("https://example.com/jobs/")
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseLenientJSON(b)
		if err != nil {
			return
		}
		for _, p := range FindJobPostings(v) {
			r := jobFromPosting(p, base)
			if _, err := normalizeJob(r, fixedNow); err == nil {
				// A normalised job always has a title and an http(s) URL.
				j, _ := normalizeJob(r, fixedNow)
				if j.Title == "" || !(strings.HasPrefix(j.URL, "http://") || strings.HasPrefix(j.URL, "https://")) {
					t.Fatalf("bad job %+v", j)
				}
			}
		}
	})
}

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
		res := extractHTMLList(doc, base, sel)
		for _, r := range res.jobs {
			normalizeJob(r, fixedNow)
		}
		if res.next != "" && !strings.HasPrefix(res.next, "http") {
			t.Fatalf("next = %q", res.next)
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
		css, attr := splitSelector(tt.in)
		if css != tt.css || attr != tt.attr {
			t.Errorf("splitSelector(%q) = %q, %q", tt.in, css, attr)
		}
	}
}

func TestForbiddenIP(t *testing.T) {
	for _, s := range []string{"127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "::", "fe80::1", "fc00::1", "100.64.0.1", "::ffff:127.0.0.1", "224.0.0.1"} {
		if !forbiddenIP(netip.MustParseAddr(s)) {
			t.Errorf("%s allowed", s)
		}
	}
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "185.12.1.1"} {
		if forbiddenIP(netip.MustParseAddr(s)) {
			t.Errorf("%s refused", s)
		}
	}
	if err := safeControl("tcp4", "127.0.0.1:80", nil); err == nil {
		t.Error("safeControl let loopback through")
	}
}

func TestDecodeBody(t *testing.T) {
	cp1251 := []byte{0xc2, 0xe0, 0xea, 0xe0, 0xed, 0xf1, 0xe8, 0xff} // "Вакансия"
	long := append([]byte("<html><head><script>"+strings.Repeat("var x = 1;\n", 200)+"</script><meta charset=\"windows-1251\"></head><body>"), cp1251...)
	tests := []struct {
		name, ct string
		body     []byte
		want     string
	}{
		{"meta late in the head", "text/html", long, "Вакансия"},
		{"utf-8 bom", "text/html", append([]byte("\ufeff<p>"), "Bakı"...), "<p>Bakı"},
		{"valid utf-8 without any declaration", "", []byte("<p>Şəki</p>"), "<p>Şəki</p>"},
		{"latin-1 without declaration", "text/html", []byte{'C', 'a', 'f', 0xe9}, "Café"},
		{"header charset: colly already converted", "text/html; charset=windows-1251", []byte("Вакансия"), "Вакансия"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decodeBody(tt.body, tt.ct); !strings.HasSuffix(got, tt.want) && !strings.Contains(got, tt.want) {
				t.Errorf("decodeBody = %q, want it to contain %q", clipStr(got, 80), tt.want)
			}
		})
	}
}

func TestHostLimiter(t *testing.T) {
	l := newHostLimiter(50*time.Millisecond, 1)
	start := time.Now()
	for i := 0; i < 3; i++ {
		rel, err := l.acquire(context.Background(), "a.example")
		if err != nil {
			t.Fatal(err)
		}
		rel()
	}
	// A lower bound only: a slow machine can only make it longer.
	if el := time.Since(start); el < 100*time.Millisecond {
		t.Errorf("3 requests to one host within %s; the interval is 50ms", el)
	}
	// A held slot blocks the next request until its context ends.
	rel, err := l.acquire(context.Background(), "b.example")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.acquire(ctx, "b.example"); err == nil {
		t.Error("acquired a slot that is held")
	}
	rel()
	if !loopbackHost("127.0.0.1") || !loopbackHost("localhost") || !loopbackHost("::1") || loopbackHost("example.com") {
		t.Error("loopbackHost")
	}
}
