package extract

import (
	"net/url"
	"strings"
	"testing"
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
			if _, err := Normalize(r, fixedNow); err == nil {
				// A normalised job always has a title and an http(s) URL.
				j, _ := Normalize(r, fixedNow)
				if j.Title == "" || !(strings.HasPrefix(j.URL, "http://") || strings.HasPrefix(j.URL, "https://")) {
					t.Fatalf("bad job %+v", j)
				}
			}
		}
	})
}
