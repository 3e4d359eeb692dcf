package demoboard

import (
	"fmt"
	"html"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/birjob/birjob/model"
)

// title is one entry of the title pool: the text, its language, whether it is
// a tech job (more often remote, sometimes paid in USD/EUR) and a plausible
// monthly pay band in AZN.
type title struct {
	text     string
	lang     string // "en", "az", "ru"
	tech     bool
	min, max int
}

var titles = []title{
	{"Senior Go Developer", "en", true, 3500, 6500},
	{"Backend Engineer (Go, PostgreSQL)", "en", true, 2500, 5000},
	{"Data Analyst", "en", true, 1500, 3000},
	{"Frontend Developer (React)", "en", true, 1800, 3800},
	{"DevOps Engineer", "en", true, 3000, 6000},
	{"QA Engineer", "en", true, 1200, 2500},
	{"Product Manager", "en", true, 2500, 5000},
	{"UI/UX Designer", "en", true, 1500, 3200},
	{"Mobile Developer (Flutter)", "en", true, 2000, 4000},
	{"C++ / Qt Developer", "en", true, 2500, 4500},
	{"Customer Support Specialist", "en", false, 800, 1300},
	{"Marketing Manager", "en", false, 1500, 2800},
	{"HR Business Partner", "en", false, 1800, 3000},
	{"Mühasib", "az", false, 900, 1600},
	{"Baş mühasib", "az", false, 1800, 3000},
	{"Satış meneceri", "az", false, 800, 1800},
	{"Ofis meneceri", "az", false, 700, 1200},
	{"Sürücü", "az", false, 700, 1100},
	{"Kassir", "az", false, 500, 800},
	{"Aşpaz", "az", false, 700, 1400},
	{"Layihə meneceri", "az", false, 2000, 3500},
	{"İnsan resursları üzrə mütəxəssis", "az", false, 1000, 1800},
	{"Müştəri xidmətləri operatoru", "az", false, 600, 900},
	{"Hüquqşünas", "az", false, 1200, 2500},
	{"Tərcüməçi (ingilis dili)", "az", false, 900, 1600},
	{"Şəbəkə administratoru", "az", true, 1200, 2200},
	{"Proqramçı (PHP/Laravel)", "az", true, 1500, 3000},
	{"Backend-разработчик", "ru", true, 2500, 5000},
	{"Бухгалтер", "ru", false, 900, 1600},
	{"Менеджер по продажам", "ru", false, 900, 2000},
	{"Системный администратор", "ru", true, 1300, 2400},
	{"Оператор call-центра", "ru", false, 600, 900},
	{"Юрист", "ru", false, 1300, 2600},
	{"Аналитик данных", "ru", true, 1800, 3500},
	{"Официант", "ru", false, 500, 800},
	{"Маркетолог", "ru", false, 1200, 2200},
}

var companies = []string{
	"Xəzər Soft", "Caspian Digital", "Bakı Logistika MMC", "Naftalan Group",
	"AzTechLab", "Qala Bank", "Göygöl Hotels", "Şirvan Retail", "Nərgiz Media",
	"Absheron Analytics", "Palıd Consulting", "Kür Energy", "Səma Travel",
	"Nizami Foods", "İçərişəhər Studio", "ООО «Каспий Сервис»",
	"Ləman & Partners", "Dəmir Yol Cargo", "Günəş Klinikası", "Ulduz Telecom",
}

// Location pools. Baku is spelled as a reader of each language would.
var (
	bakuByLang  = map[string][]string{"az": {"Bakı"}, "en": {"Baku", "Bakı"}, "ru": {"Баку", "Bakı"}}
	otherCities = []string{"Sumqayıt", "Gəncə", "Mingəçevir", "Lənkəran"}
)

// RemoteLocation is the location text of fully remote postings.
const RemoteLocation = "Remote"

var negotiable = map[string]string{"az": "Razılaşma yolu ilə", "en": "Negotiable", "ru": "по договорённости"}

var descText = map[string]struct {
	intro, reqHead, offerHead string
	reqs, offers              []string
}{
	"az": {
		"%s komandasına %s axtarır. İş yeri: %s.", "Tələblər", "Təklif edirik",
		[]string{"Ali təhsil", "Ən azı 2 il iş təcrübəsi", "Azərbaycan və rus dillərini bilmək", "Komandada işləmək bacarığı", "MS Office proqramlarını bilmək", "Məsuliyyətli və dəqiq olmaq"},
		[]string{"Rəsmi əmək müqaviləsi", "Tibbi sığorta", "Nahar şirkət hesabına", "Çevik iş qrafiki", "Peşəkar inkişaf imkanları"},
	},
	"en": {
		"%s is looking for a %s to join the team (%s).", "Requirements", "We offer",
		[]string{"3+ years of relevant experience", "Experience with PostgreSQL", "English at B2 level or higher", "Strong communication skills", "Ability to work independently", "Azerbaijani or Russian is a plus"},
		[]string{"Health insurance", "Flexible hours", "Annual bonus", "Modern office near 28 May metro", "Learning budget"},
	},
	"ru": {
		"Компания %s ищет сотрудника на позицию «%s». Место работы: %s.", "Требования", "Условия",
		[]string{"Опыт работы от 1 года", "Знание азербайджанского и русского языков", "Ответственность и пунктуальность", "Высшее образование", "Уверенный пользователь ПК"},
		[]string{"Официальное трудоустройство", "Медицинская страховка", "Бесплатные обеды", "График 5/2", "Обучение за счёт компании"},
	},
}

// rngFor is the random source of job k: a pure function of (seed, k).
func rngFor(seed int64, k int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed)^0x9e3779b97f4a7c15, uint64(k)*0xbf58476d1ce4e5b9+1))
}

// content fills the seed-determined fields of p (everything but times, URL).
func (p *Posting) fillContent(r *rand.Rand) {
	t := titles[r.IntN(len(titles))]
	p.Title = t.text
	p.Language = t.lang
	p.Company = companies[r.IntN(len(companies))]

	switch n := r.IntN(100); {
	case n < 70:
		p.EmploymentType = model.EmploymentFullTime
	case n < 82:
		p.EmploymentType = model.EmploymentPartTime
	case n < 92:
		p.EmploymentType = model.EmploymentContract
	default:
		p.EmploymentType = model.EmploymentInternship
	}

	remoteChance := 12
	if t.tech {
		remoteChance = 35
	}
	p.Remote = r.IntN(100) < remoteChance
	switch {
	case p.Remote && r.IntN(2) == 0:
		p.Location = RemoteLocation
	case r.IntN(100) < 72:
		b := bakuByLang[t.lang]
		p.Location = b[r.IntN(len(b))]
	default:
		p.Location = otherCities[r.IntN(len(otherCities))]
	}

	p.Salary, p.SalaryText = salaryFor(r, t, p.EmploymentType)
	p.Description, p.Summary = describe(r, t, p.Company, p.Location)
}

// salaryFor picks a salary and the board's human prose for it, in one of the
// many formats real boards use.
func salaryFor(r *rand.Rand, t title, employment string) (*model.Salary, string) {
	if r.IntN(100) < 14 {
		return nil, negotiable[t.lang]
	}
	lo := t.min + r.IntN(t.max-t.min+1)/2
	hi := lo + (t.max-t.min)/2 + r.IntN(t.max-t.min+1)/2
	if employment == model.EmploymentInternship || employment == model.EmploymentPartTime {
		lo, hi = lo/2, hi/2
	}
	cur := "AZN"
	if t.tech && t.lang == "en" && r.IntN(100) < 40 {
		cur = "USD"
		if r.IntN(3) == 0 {
			cur = "EUR"
		}
		lo, hi = lo*10/17, hi*10/17 // roughly AZN → USD/EUR
	}
	lo, hi = round100(lo), round100(hi)
	if hi <= lo {
		hi = lo + 100
	}
	period := "month"
	if cur != "AZN" && r.IntN(4) == 0 {
		period = "year"
		lo, hi = round1000(lo*12), round1000(hi*12)
	}
	// shape: 0 range, 1 "from", 2 exact
	shape := 0
	if n := r.IntN(100); n >= 55 && n < 80 {
		shape = 1
	} else if n >= 80 {
		shape = 2
	}
	s := &model.Salary{Min: float64(lo), Max: float64(hi), Currency: cur, Period: period}
	switch shape {
	case 1:
		s.Max = 0
	case 2:
		s.Max = s.Min
	}
	return s, salaryProse(r, s, shape, t.lang)
}

func salaryProse(r *rand.Rand, s *model.Salary, shape int, lang string) string {
	lo, hi := int(s.Min), int(s.Max)
	variant := r.IntN(2)
	switch s.Currency {
	case "AZN":
		switch shape {
		case 0:
			if variant == 0 {
				return fmt.Sprintf("%s – %s ₼ / ay", spaced(lo), spaced(hi))
			}
			return fmt.Sprintf("%d-%d AZN", lo, hi)
		case 1:
			switch lang {
			case "az":
				return fmt.Sprintf("%d AZN-dən", lo)
			case "ru":
				return fmt.Sprintf("от %d ₼", lo)
			}
			return fmt.Sprintf("from %d ₼", lo)
		}
		if variant == 0 {
			return fmt.Sprintf("%d AZN", lo)
		}
		return fmt.Sprintf("%s ₼ / ay", spaced(lo))
	case "USD":
		if s.Period == "year" {
			switch shape {
			case 0:
				return fmt.Sprintf("$%dk–$%dk / year", lo/1000, hi/1000)
			case 1:
				return fmt.Sprintf("from $%dk/year", lo/1000)
			}
			return fmt.Sprintf("$%s / year", commas(lo))
		}
		switch shape {
		case 0:
			return fmt.Sprintf("$%s – $%s / month", commas(lo), commas(hi))
		case 1:
			return fmt.Sprintf("from $%s/month", commas(lo))
		}
		return fmt.Sprintf("$%s/month", commas(lo))
	}
	// EUR
	if s.Period == "year" {
		switch shape {
		case 0:
			return fmt.Sprintf("€%dk – €%dk per year", lo/1000, hi/1000)
		case 1:
			return fmt.Sprintf("from €%dk per year", lo/1000)
		}
		return fmt.Sprintf("€%s per year", spaced(lo))
	}
	switch shape {
	case 0:
		return fmt.Sprintf("€%s – €%s / month", spaced(lo), spaced(hi))
	case 1:
		return fmt.Sprintf("from €%d/month", lo)
	}
	return fmt.Sprintf("€%s / month", spaced(lo))
}

// describe builds the description as HTML (every piece escaped) and a
// one-line plain-text summary for list pages and feeds.
func describe(r *rand.Rand, t title, company, location string) (htmlDesc, summary string) {
	d := descText[t.lang]
	summary = fmt.Sprintf(d.intro, company, t.text, location)
	var b strings.Builder
	b.WriteString("<p>" + html.EscapeString(summary) + "</p>")
	list := func(head string, pool []string, n int) {
		b.WriteString("<h3>" + html.EscapeString(head) + "</h3><ul>")
		for _, i := range r.Perm(len(pool))[:n] {
			b.WriteString("<li>" + html.EscapeString(pool[i]) + "</li>")
		}
		b.WriteString("</ul>")
	}
	list(d.reqHead, d.reqs, 2+r.IntN(3))
	list(d.offerHead, d.offers, 2+r.IntN(2))
	return b.String(), summary
}

func round100(n int) int  { return (n + 50) / 100 * 100 }
func round1000(n int) int { return (n + 500) / 1000 * 1000 }

// spaced formats 1500 as "1 500" (space as thousands separator).
func spaced(n int) string { return group(n, " ") }

// commas formats 3000 as "3,000".
func commas(n int) string { return group(n, ",") }

func group(n int, sep string) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + sep + s[i:]
	}
	return s
}
