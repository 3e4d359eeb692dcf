package matcher

import (
	"errors"
	"strings"
	"testing"

	"github.com/birjob/birjob/model"
)

func TestParseQuery_Errors(t *testing.T) {
	tests := []struct {
		q       string
		pos     int
		contain string
	}{
		{`golang "backend developer`, 7, "unclosed quote"},
		{`(golang OR go`, 0, "unclosed ("},
		{`golang)`, 6, "unexpected )"},
		{`OR golang`, 0, "OR needs a term before"},
		{`golang OR`, 7, "OR needs a term after"},
		{`golang OR OR go`, 7, "OR needs a term after"},
		{`title:`, 0, "title: needs"},
		{`foo:bar`, 0, `unknown field "foo"`},
		{`()`, 0, "empty parentheses"},
		{`""`, 0, "empty phrase"},
		{`go -`, 3, ""}, // a lone dash is punctuation, not an error
		{`g*`, 0, "at least 2"},
		{`мüh (a OR "b`, 10, "unclosed quote"}, // positions count characters
		{strings.Repeat("(", 12) + "a" + strings.Repeat(")", 12), 10, "nested deeper"},
		{strings.Repeat("a ", 65), 128, "more than 64"},
	}
	for _, tt := range tests {
		_, err := ParseQuery(tt.q)
		if tt.contain == "" {
			if err != nil {
				t.Errorf("ParseQuery(%q) = %v, want no error", tt.q, err)
			}
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("ParseQuery(%q) = %v, want *ParseError", tt.q, err)
			continue
		}
		if pe.Pos != tt.pos || !strings.Contains(pe.Msg, tt.contain) {
			t.Errorf("ParseQuery(%q) = %q (pos %d), want %q at %d", tt.q, err, pe.Pos, tt.contain, tt.pos)
		}
	}
}

func TestParseQuery_ErrorMessagePointsAtProblem(t *testing.T) {
	_, err := ParseQuery(`senior "go developer`)
	if err == nil || err.Error() != "unclosed quote at 7" {
		t.Fatalf("err = %v", err)
	}
}

func TestParseQuery_Canonical(t *testing.T) {
	tests := []struct{ q, want string }{
		{"Golang Developer", "(golang developer)"},
		{"golang OR go", "(golang OR go)"},
		{"a | b", "(a OR b)"},
		{`"Backend  Developer"`, `"backend developer"`},
		{"-senior python", "(-senior python)"},
		{"NOT senior", "-senior"},
		{"title:(go OR golang) company:PASHA", "((title:go OR title:golang) company:pasha)"},
		{"node.js", `"node js"`},
		{"C++ C#", "(c++ c#)"},
		{"develop*", "develop*"},
		{"1C:Enterprise", `"1c enterprise"`},
		{"Java: senior", "(java senior)"},
		{"a AND b", "(a b)"},
		{"«Baş mühəndis»", `"bas muhendis"`},
		{"", ""},
		{"   !!! ", ""},
	}
	for _, tt := range tests {
		q, err := ParseQuery(tt.q)
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", tt.q, err)
			continue
		}
		if got := q.String(); got != tt.want {
			t.Errorf("ParseQuery(%q) = %s, want %s", tt.q, got, tt.want)
		}
	}
}

var semJob = model.Job{
	Title:          "Baş Mühəndis (Backend Developer)",
	Company:        "PASHA Bank OJSC",
	Location:       "Bakı, Azərbaycan",
	Description:    "Golang, PostgreSQL, Kubernetes. Комфортный офис, ёлка на Новый год.",
	EmploymentType: "FULL_TIME",
	Source:         "Boss.az",
	Salary:         &model.Salary{Min: 2000, Max: 3000, Currency: "AZN", Period: "month"},
}

func boolp(b bool) *bool { return &b }

func TestCriteria_Semantics(t *testing.T) {
	tests := []struct {
		name string
		c    model.Criteria
		want bool
	}{
		{"empty matches all", model.Criteria{}, true},
		{"word without diacritics", model.Criteria{Query: "muhendis"}, true},
		{"word in capitals", model.Criteria{Query: "MÜHƏNDİS"}, true},
		{"all words must appear", model.Criteria{Query: "muhendis python"}, false},
		{"words anywhere in title/company/description", model.Criteria{Query: "golang pasha"}, true},
		{"phrase", model.Criteria{Query: `"backend developer"`}, true},
		{"phrase order matters", model.Criteria{Query: `"developer backend"`}, false},
		{"excluded word", model.Criteria{Query: "developer -senior"}, true},
		{"excluded word present", model.Criteria{Query: "developer -golang"}, false},
		{"OR", model.Criteria{Query: "python OR golang"}, true},
		{"OR none", model.Criteria{Query: "python OR java"}, false},
		{"parens", model.Criteria{Query: "(python OR golang) (bank OR fintech)"}, true},
		{"title field", model.Criteria{Query: "title:developer"}, true},
		{"title field misses description", model.Criteria{Query: "title:golang"}, false},
		{"company field", model.Criteria{Query: "company:pasha"}, true},
		{"cyrillic ё", model.Criteria{Query: "елка"}, true},
		{"prefix", model.Criteria{Query: "kuber*"}, true},
		{"prefix miss", model.Criteria{Query: "title:kuber*"}, false},
		{"location alias latin", model.Criteria{Location: "Baku"}, true},
		{"location alias russian", model.Criteria{Location: "Баку"}, true},
		{"location alias ascii", model.Criteria{Location: "baki"}, true},
		{"location country", model.Criteria{Location: "Azerbaijan"}, true},
		{"location other city", model.Criteria{Location: "Sumqayıt"}, false},
		{"location one of several", model.Criteria{Location: "Sumqayıt, Bakı"}, true},
		{"remote only", model.Criteria{Remote: boolp(true)}, false},
		{"on site only", model.Criteria{Remote: boolp(false)}, true},
		{"baku or remote", model.Criteria{Location: "Gəncə", Remote: boolp(true)}, false},
		{"salary below", model.Criteria{SalaryMin: &model.SalaryMin{Amount: 2500}}, true},
		{"salary above max", model.Criteria{SalaryMin: &model.SalaryMin{Amount: 3500}}, false},
		{"salary usd", model.Criteria{SalaryMin: &model.SalaryMin{Amount: 1500, Currency: "USD"}}, true},
		{"salary usd too high", model.Criteria{SalaryMin: &model.SalaryMin{Amount: 2000, Currency: "USD"}}, false},
		{"salary yearly", model.Criteria{SalaryMin: &model.SalaryMin{Amount: 30000, Currency: "AZN", Period: "year"}}, true},
		{"salary hourly", model.Criteria{SalaryMin: &model.SalaryMin{Amount: 20, Currency: "AZN", Period: "hour"}}, false},
		{"employment type", model.Criteria{EmploymentTypes: []string{"full-time", "contract"}}, true},
		{"employment type miss", model.Criteria{EmploymentTypes: []string{"part time"}}, false},
		{"company include", model.Criteria{Companies: []string{"Pasha Bank"}}, true},
		{"company include miss", model.Criteria{Companies: []string{"Kapital Bank"}}, false},
		{"company exclude", model.Criteria{ExcludeCompanies: []string{"PASHA BANK"}}, false},
		{"company exclude other", model.Criteria{ExcludeCompanies: []string{"ABB"}}, true},
		{"source", model.Criteria{Sources: []string{"boss.az"}}, true},
		{"source miss", model.Criteria{Sources: []string{"hellojob.az"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, m := range []Matcher{NewBrute(), NewIndex()} {
				if err := m.Add(1, Owner{UserID: 1}, tt.c); err != nil {
					t.Fatal(err)
				}
				got := len(m.Match(&semJob)) == 1
				if got != tt.want {
					t.Errorf("%T: match = %v, want %v", m, got, tt.want)
				}
			}
		})
	}
}

// TestCriteria_SourcesAnyListing: a sources list matches a job seen on
// any of them, not only its primary source (one job per posting: a job
// first listed by boss.az and also by HelloJob.az is HelloJob.az's too);
// names are folded; a pooled doc forgets the sources of the job before.
func TestCriteria_SourcesAnyListing(t *testing.T) {
	both := model.Job{Title: "Go developer", Source: "boss.az",
		Sources: []model.JobSource{{ID: 1, Name: "boss.az", Live: true}, {ID: 2, Name: "HelloJob.az", Live: true}}}
	primaryOnly := model.Job{Title: "Go developer", Source: "boss.az"}
	listedOnly := model.Job{Title: "Go developer", Sources: []model.JobSource{{ID: 2, Name: "hellojob.az"}}}
	for _, tt := range []struct {
		name    string
		sources []string
		job     *model.Job
		want    bool
	}{
		{"other listing", []string{"hellojob.az"}, &both, true},
		{"other listing, folded", []string{"  HELLOJOB.AZ "}, &both, true},
		{"primary", []string{"Boss.az"}, &both, true},
		{"one of several", []string{"jobsearch.az", "hellojob.az"}, &both, true},
		{"no listing there", []string{"jobsearch.az"}, &both, false},
		{"primary only", []string{"hellojob.az"}, &primaryOnly, false},
		{"listing without a primary name", []string{"hellojob.az"}, &listedOnly, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, m := range []Matcher{NewBrute(), NewIndex()} {
				if err := m.Add(1, Owner{UserID: 1}, model.Criteria{Query: "developer", Sources: tt.sources}); err != nil {
					t.Fatal(err)
				}
				if got := len(m.Match(tt.job)) == 1; got != tt.want {
					t.Errorf("%T: sources %q, job on %q %v: match = %v, want %v", m, tt.sources, tt.job.Source, tt.job.Sources, got, tt.want)
				}
			}
		})
	}
	// The index pools its docs: after a job listed on HelloJob.az, a job
	// of boss.az alone does not carry HelloJob.az over.
	ix := NewIndex()
	if err := ix.Add(1, Owner{UserID: 1}, model.Criteria{Sources: []string{"hellojob.az"}}); err != nil {
		t.Fatal(err)
	}
	var buf []Hit
	if buf = ix.MatchAppend(buf[:0], &both); len(buf) != 1 {
		t.Fatalf("job on both: %d hits", len(buf))
	}
	if buf = ix.MatchAppend(buf[:0], &primaryOnly); len(buf) != 0 {
		t.Errorf("job on boss.az only, after one on both: %d hits, want none", len(buf))
	}
}

func TestCriteria_Inflections(t *testing.T) {
	tests := []struct {
		query, title string
		want         bool
	}{
		{"menecer", "Satış meneceri", true},
		{"mühəndis", "Proqram təminatı mühəndisi", true},
		{"muhendis", "Mühəndislər", true},
		{"инженер", "Ведущего инженера", true},
		{"разработчик", "Разработчиков", true},
		{"менеджер", "Менеджера по продажам", true},
		{"developer", "Developers", true},
		{"java", "JavaScript developer", false},
		{"sql", "SQLite", false},
		{"go", "Google", false},
		{`"satış menecer"`, "Satış meneceri", false}, // quoted words are exact
		{`"satış meneceri"`, "Satış meneceri", true},
		{"meneceri", "Satış menecer", false},
		{"title:mütəxəssis", "IT mütəxəssisi", true},
		{"-menecer", "Satış meneceri", false},
	}
	for _, tt := range tests {
		for _, m := range []Matcher{NewBrute(), NewIndex()} {
			if err := m.Add(1, Owner{UserID: 1}, model.Criteria{Query: tt.query}); err != nil {
				t.Fatal(err)
			}
			if got := len(m.Match(&model.Job{Title: tt.title})) == 1; got != tt.want {
				t.Errorf("%T: %q vs %q = %v, want %v", m, tt.query, tt.title, got, tt.want)
			}
		}
	}
}

func TestCriteria_NoSalaryJob(t *testing.T) {
	j := semJob
	j.Salary = nil
	b := NewIndex()
	b.Add(1, Owner{UserID: 1}, model.Criteria{SalaryMin: &model.SalaryMin{Amount: 100}})
	b.Add(2, Owner{UserID: 1}, model.Criteria{})
	if h := b.Match(&j); len(h) != 1 || h[0].AlertID != 2 {
		t.Fatalf("hits = %+v: a job without salary must not pass a minimum", h)
	}
}

func TestCriteria_RemoteJobs(t *testing.T) {
	remoteJob := model.Job{Title: "Designer", Location: "Uzaqdan"}
	flagged := model.Job{Title: "Designer", Location: "Berlin", Remote: true}
	for _, c := range []model.Criteria{
		{Remote: boolp(true)},
		{Location: "remote"},
		{Location: "Удаленно"},
		{Location: "Baku", Remote: boolp(true)},
	} {
		for _, j := range []model.Job{remoteJob, flagged} {
			ix := NewIndex()
			ix.Add(1, Owner{UserID: 1}, c)
			if len(ix.Match(&j)) != 1 {
				t.Errorf("criteria %+v should match remote job %+v", c, j)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	bad := []struct {
		c    model.Criteria
		want string
	}{
		{model.Criteria{Query: `"x`}, "query: unclosed quote at 0"},
		{model.Criteria{SalaryMin: &model.SalaryMin{Amount: 1, Currency: "XYZ"}}, "unknown currency"},
		{model.Criteria{SalaryMin: &model.SalaryMin{Amount: 1, Period: "fortnight"}}, "unknown period"},
		{model.Criteria{SalaryMin: &model.SalaryMin{Amount: -1}}, "positive number"},
		{model.Criteria{EmploymentTypes: []string{"sometimes"}}, "unknown type"},
		{model.Criteria{Companies: []string{"!!"}}, "names no company"},
		{model.Criteria{Location: "--"}, "names no place"},
	}
	for _, tt := range bad {
		err := Validate(tt.c)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.c, err, tt.want)
		}
	}
	if err := Validate(model.Criteria{Query: "go", Location: "Bakı", SalaryMin: &model.SalaryMin{Amount: 2000, Currency: "₼"}, EmploymentTypes: []string{"FULL_TIME"}}); err != nil {
		t.Errorf("Validate(good) = %v", err)
	}
	var pe *ParseError
	if err := Validate(model.Criteria{Query: "a OR"}); !errors.As(err, &pe) {
		t.Errorf("Validate query error %v is not a *ParseError", err)
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{`golang "backend dev" -senior OR (title:go company:"x y")`, `a*`, `((`, `"`, `NOT NOT a`, `title:(a|b)`, "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuery(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Pos < 0 || pe.Pos > len([]rune(s)) {
				t.Fatalf("ParseQuery(%q) = %v", s, err)
			}
			return
		}
		// Evaluating and indexing a parsed query never panics.
		ix := NewIndex()
		if err := ix.Add(1, Owner{UserID: 1}, model.Criteria{Query: s}); err != nil {
			t.Fatalf("Add after successful parse: %v", err)
		}
		b := NewBrute()
		b.Add(1, Owner{UserID: 1}, model.Criteria{Query: s})
		j := &model.Job{Title: s, Description: q.String()}
		if len(ix.Match(j)) != len(b.Match(j)) {
			t.Fatalf("index and brute disagree on %q", s)
		}
	})
}

func TestFilter(t *testing.T) {
	f, err := NewFilter(model.Criteria{Query: "mühəndis -junior", Location: "Баку"})
	if err != nil {
		t.Fatal(err)
	}
	if !f.Match(&semJob) {
		t.Error("filter should match the job")
	}
	if f.Match(&model.Job{Title: "Junior mühəndis", Location: "Baku"}) {
		t.Error("filter should exclude junior")
	}
	if _, err := NewFilter(model.Criteria{Query: "(a"}); err == nil {
		t.Error("bad query accepted")
	}
}
