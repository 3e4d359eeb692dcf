package normalize

import (
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/birjob/birjob/model"
)

func TestParseSalary(t *testing.T) {
	tests := []struct {
		in   string
		want model.Salary
		ok   bool
	}{
		{"₼1500 - 2500", model.Salary{Min: 1500, Max: 2500, Currency: "AZN"}, true},
		{"1500-2500 AZN per month", model.Salary{Min: 1500, Max: 2500, Currency: "AZN", Period: "month"}, true},
		{"1 500 – 2 000 ₼ / ay", model.Salary{Min: 1500, Max: 2000, Currency: "AZN", Period: "month"}, true},
		{"$190,800-$227,900", model.Salary{Min: 190800, Max: 227900, Currency: "USD"}, true},
		{"$90k", model.Salary{Min: 90000, Max: 90000, Currency: "USD"}, true},
		{"90k", model.Salary{Min: 90000, Max: 90000}, true},
		{"$90-120k/year", model.Salary{Min: 90000, Max: 120000, Currency: "USD", Period: "year"}, true},
		{"€50/hour", model.Salary{Min: 50, Max: 50, Currency: "EUR", Period: "hour"}, true},
		{"€45.50 per hour", model.Salary{Min: 45.5, Max: 45.5, Currency: "EUR", Period: "hour"}, true},
		{"from 1500 AZN", model.Salary{Min: 1500, Currency: "AZN"}, true},
		{"From $3,000 a month", model.Salary{Min: 3000, Currency: "USD", Period: "month"}, true},
		{"up to 3000 manat", model.Salary{Max: 3000, Currency: "AZN"}, true},
		{"1500 AZN-dən", model.Salary{Min: 1500, Currency: "AZN"}, true},
		{"от 150 000 руб. в месяц", model.Salary{Min: 150000, Currency: "RUB", Period: "month"}, true},
		{"до 200 000 ₽", model.Salary{Max: 200000, Currency: "RUB"}, true},
		{"100 000 – 150 000 ₽ в месяц", model.Salary{Min: 100000, Max: 150000, Currency: "RUB", Period: "month"}, true},
		{"120-150 тыс. руб.", model.Salary{Min: 120000, Max: 150000, Currency: "RUB"}, true},
		{"1.500 €", model.Salary{Min: 1500, Max: 1500, Currency: "EUR"}, true},
		{"USD 4,000 - 5,000 monthly", model.Salary{Min: 4000, Max: 5000, Currency: "USD", Period: "month"}, true},
		{"£30,000 - £40,000 per annum", model.Salary{Min: 30000, Max: 40000, Currency: "GBP", Period: "year"}, true},
		{"2000+ AZN", model.Salary{Min: 2000, Currency: "AZN"}, true},
		{"1500 &#8380;", model.Salary{Min: 1500, Max: 1500, Currency: "AZN"}, true},
		{"Competitive", model.Salary{}, false},
		{"", model.Salary{}, false},
		{"Razılaşma yolu ilə", model.Salary{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseSalary(tt.in)
			if ok != tt.ok || got != tt.want {
				t.Errorf("ParseSalary(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestInferPeriod(t *testing.T) {
	tests := []struct {
		in   model.Salary
		want string
	}{
		{model.Salary{Min: 1500, Currency: "AZN"}, "month"},
		{model.Salary{Min: 150000, Currency: "RUB"}, "month"},
		{model.Salary{Min: 45, Currency: "USD"}, "hour"},
		{model.Salary{Min: 4000, Currency: "EUR"}, "month"},
		{model.Salary{Min: 190800, Max: 227900, Currency: "USD"}, "year"},
		{model.Salary{Min: 50, Currency: "USD", Period: "day"}, "day"},
		{model.Salary{Min: 100}, ""},
	}
	for _, tt := range tests {
		if got := InferPeriod(tt.in).Period; got != tt.want {
			t.Errorf("InferPeriod(%+v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFindSalary(t *testing.T) {
	tests := []struct {
		in   string
		want model.Salary
		ok   bool
	}{
		{"The base pay range for this role is $190,800-$227,900 plus equity and a 401(k).", model.Salary{Min: 190800, Max: 227900, Currency: "USD"}, true},
		{"5 years of experience. Salary: 2500 AZN per month.", model.Salary{Min: 2500, Max: 2500, Currency: "AZN", Period: "month"}, true},
		{"We need 3 engineers with 5+ years experience", model.Salary{}, false},
		{"Зарплата от 120 000 до 180 000 рублей", model.Salary{Min: 120000, Max: 180000, Currency: "RUB"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := FindSalary(tt.in)
			if ok != tt.ok || got != tt.want {
				t.Errorf("FindSalary(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	baku := time.FixedZone("AZT", 4*3600)
	now := time.Date(2026, 3, 10, 15, 30, 0, 0, baku)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, baku) }
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-03-01", day(2026, 3, 1), true},
		{"2026-03-01T10:00:00Z", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), true},
		{"2026-03-01T10:00:00+04:00", time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC), true},
		{"2026-03-01T10:00:00.123Z", time.Date(2026, 3, 1, 10, 0, 0, 123e6, time.UTC), true},
		{"2026-03-01T10:00", time.Date(2026, 3, 1, 10, 0, 0, 0, baku), true},
		{"Sun, 01 Mar 2026 10:00:00 GMT", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), true},
		{"Sun, 01 Mar 2026 10:00:00 +0000", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), true},
		{"01.03.2026", day(2026, 3, 1), true},
		{"March 1, 2026", day(2026, 3, 1), true},
		{"1 March 2026", day(2026, 3, 1), true},
		{"5 mart 2026", day(2026, 3, 5), true},
		{"5 марта 2026", day(2026, 3, 5), true},
		{"12 мая 2025 г.", day(2025, 5, 12), true},
		{"today", day(2026, 3, 10), true},
		{"Yesterday", day(2026, 3, 9), true},
		{"Bu gün", day(2026, 3, 10), true},
		{"dünən", day(2026, 3, 9), true},
		{"вчера", day(2026, 3, 9), true},
		{"2 days ago", now.AddDate(0, 0, -2), true},
		{"Posted 3 days ago", now.AddDate(0, 0, -3), true},
		{"30+ days ago", now.AddDate(0, 0, -30), true},
		{"an hour ago", now.Add(-time.Hour), true},
		{"5 hours ago", now.Add(-5 * time.Hour), true},
		{"2 gün əvvəl", now.AddDate(0, 0, -2), true},
		{"3 saat əvvəl", now.Add(-3 * time.Hour), true},
		{"1 həftə əvvəl", now.AddDate(0, 0, -7), true},
		{"2 дня назад", now.AddDate(0, 0, -2), true},
		{"5 дней назад", now.AddDate(0, 0, -5), true},
		{"3 часа назад", now.Add(-3 * time.Hour), true},
		{"2 недели назад", now.AddDate(0, 0, -14), true},
		{"1772359200", time.Unix(1772359200, 0).In(baku), true},
		{"soon", time.Time{}, false},
		{"1850-01-01", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseDate(tt.in, now)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("ParseDate(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestEmploymentType(t *testing.T) {
	tests := map[string]string{
		"FULL_TIME":            model.EmploymentFullTime,
		"Full time":            model.EmploymentFullTime,
		"full-time, permanent": model.EmploymentFullTime,
		"Tam ştat":             model.EmploymentFullTime,
		"Полная занятость":     model.EmploymentFullTime,
		"PART_TIME":            model.EmploymentPartTime,
		"Частичная занятость":  model.EmploymentPartTime,
		"CONTRACTOR":           model.EmploymentContract,
		"Freelance":            model.EmploymentContract,
		"TEMPORARY":            model.EmploymentTemporary,
		"INTERN":               model.EmploymentInternship,
		"Стажировка":           model.EmploymentInternship,
		"VOLUNTEER":            model.EmploymentVolunteer,
		"whatever":             "",
	}
	for in, want := range tests {
		if got := EmploymentType(in); got != want {
			t.Errorf("EmploymentType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalURL(t *testing.T) {
	base, _ := url.Parse("https://Jobs.Example.com:443/list/page?x=1")
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"/jobs/42?utm_source=x&utm_medium=y&gclid=z", "https://jobs.example.com/jobs/42", true},
		{"../jobs/42#apply", "https://jobs.example.com/jobs/42", true},
		{"jobs/42?b=2&a=1&fbclid=q", "https://jobs.example.com/list/jobs/42?a=1&b=2", true},
		{"  /jobs/43?id=1&amp;ref=home  ", "https://jobs.example.com/jobs/43?id=1", true},
		{"//other.example.org:80/x", "https://other.example.org:80/x", true},
		{"HTTP://Other.Example.org:80/x", "http://other.example.org/x", true},
		{"https://example.com", "https://example.com/", true},
		{"javascript:alert(1)", "", false},
		{"mailto:a@b.c", "", false},
		{"ftp://example.com/x", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := CanonicalURL(tt.in, base)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("CanonicalURL(%q) = %q, %v; want %q (ok=%v)", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := map[string]string{
		"  Senior&nbsp;Go &amp; Rust\n\t Engineer  ": "Senior Go & Rust Engineer",
		"Bakı\u200b, Azərbaycan":                     "Bakı, Azərbaycan",
		"a\x00b\x07c":                                "abc",
		"\xff\xfeok":                                 "\uFFFDok",
		"&lt;b&gt;bold&lt;/b&gt;":                    "<b>bold</b>",
	}
	for in, want := range tests {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDescription(t *testing.T) {
	in := `<p>We build <b>things</b>.</p><script>alert(1)</script><ul><li>Go</li><li>SQL</li></ul><img src=x onerror=alert(1)>`
	got := Description(in)
	want := "We build things.\n\n• Go\n• SQL"
	if got != want {
		t.Errorf("Description = %q, want %q", got, want)
	}
	if got := Description("&lt;p&gt;Hello &amp;amp; bye&lt;/p&gt;"); got != "Hello & bye" {
		t.Errorf("escaped markup: got %q", got)
	}
}

func TestIsRemote(t *testing.T) {
	if !IsRemote("Remote (EU)") || !IsRemote("Uzaqdan iş") || !IsRemote("Удалённая работа") || !IsRemote("TELECOMMUTE") {
		t.Error("remote not detected")
	}
	if IsRemote("Baku, Azerbaijan") || IsRemote("Not remote") {
		t.Error("false remote")
	}
}

func FuzzParseSalary(f *testing.F) {
	for _, s := range []string{"₼1500 - 2500", "$190,800-$227,900", "90k", "from 1500 AZN", "до 200 000 ₽ в месяц", "1.5k€/mo", "1,2,3,4", "9999999999999999999k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, fn := range []func(string) (model.Salary, bool){ParseSalary, FindSalary} {
			sal, ok := fn(s)
			if !ok {
				continue
			}
			if sal.Min < 0 || sal.Max < 0 || (sal.Max > 0 && sal.Min > sal.Max) || sal.Min != sal.Min || sal.Max != sal.Max {
				t.Fatalf("%q → %+v", s, sal)
			}
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-03-01", "2 days ago", "2 gün əvvəl", "2 дня назад", "Sun, 01 Mar 2026 10:00:00 GMT", "1772359200", "12 мая 2025"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDate(s, now)
		if ok && (d.Year() < 1990 || d.After(now.AddDate(2, 0, 0))) {
			t.Fatalf("%q → %v out of range", s, d)
		}
	})
}

func FuzzText(f *testing.F) {
	f.Add("  a&amp;b\x00 ")
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		if !utf8.ValidString(out) || len(out) > MaxTextLen || strings.TrimSpace(out) != out {
			t.Fatalf("Text(%q) = %q", s, out)
		}
		d := Description(s)
		if !utf8.ValidString(d) || len(d) > MaxDescriptionLen {
			t.Fatalf("Description(%q) = %q", s, d)
		}
	})
}
