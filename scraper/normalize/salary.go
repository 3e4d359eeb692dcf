package normalize

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/birjob/birjob/model"
)

// currencyMarks maps signs and words (lower case) to ISO 4217 codes. Words
// are matched at word boundaries; signs anywhere.
var currencySigns = []struct{ mark, code string }{
	{"us$", "USD"}, {"₼", "AZN"}, {"$", "USD"}, {"€", "EUR"}, {"₽", "RUB"},
	{"£", "GBP"}, {"₺", "TRY"}, {"₸", "KZT"}, {"₾", "GEL"}, {"₴", "UAH"},
}

var currencyWords = map[string]string{
	"azn": "AZN", "manat": "AZN", "manats": "AZN", "man": "AZN", "m.": "AZN",
	"usd": "USD", "dollar": "USD", "dollars": "USD", "dollars.": "USD", "долл": "USD", "долларов": "USD", "dollar.": "USD",
	"eur": "EUR", "euro": "EUR", "euros": "EUR", "евро": "EUR", "avro": "EUR",
	"rub": "RUB", "rur": "RUB", "руб": "RUB", "рублей": "RUB", "рубля": "RUB", "рубль": "RUB", "р": "RUB",
	"gbp": "GBP", "try": "TRY", "tl": "TRY", "lira": "TRY", "kzt": "KZT", "тенге": "KZT",
	"gel": "GEL", "lari": "GEL", "uah": "UAH", "грн": "UAH",
}

// periodWords maps markers (lower case) to periods; matched as substrings
// after the amounts, nearest first.
var periodWords = []struct{ mark, period string }{
	{"per hour", "hour"}, {"an hour", "hour"}, {"/hour", "hour"}, {"/hr", "hour"}, {"hourly", "hour"},
	{"/h", "hour"}, {" p/h", "hour"}, {"saatlıq", "hour"}, {"saatda", "hour"}, {"/saat", "hour"},
	{"в час", "hour"}, {"/час", "hour"}, {"/ч", "hour"}, {"за час", "hour"}, {" hr", "hour"},
	{"per month", "month"}, {"a month", "month"}, {"/month", "month"}, {"/mo", "month"},
	{"monthly", "month"}, {"per mo", "month"}, {"aylıq", "month"}, {"ayda", "month"}, {"/ay", "month"},
	{"в месяц", "month"}, {"/мес", "month"}, {"за месяц", "month"}, {"ежемесячно", "month"}, {" mo", "month"},
	{"per year", "year"}, {"a year", "year"}, {"/year", "year"}, {"/yr", "year"}, {"per annum", "year"},
	{"p.a.", "year"}, {"annual", "year"}, {"yearly", "year"}, {"annually", "year"}, {"illik", "year"},
	{"ildə", "year"}, {"в год", "year"}, {"/год", "year"}, {"за год", "year"}, {" yr", "year"}, {"/annum", "year"},
	{"per week", "week"}, {"a week", "week"}, {"/week", "week"}, {"/wk", "week"}, {"weekly", "week"},
	{"həftəlik", "week"}, {"в неделю", "week"}, {"/нед", "week"},
	{"per day", "day"}, {"a day", "day"}, {"/day", "day"}, {"daily", "day"}, {"gündəlik", "day"},
	{"в день", "day"}, {"/день", "day"}, {"за смену", "day"},
}

// Words that turn a single amount into a minimum or a maximum.
var fromWords = []string{"from", "starting at", "starts at", "min", "minimum", "at least", "dən", "dan", "başlayaraq", "от", "от\u00a0"}
var uptoWords = []string{"up to", "upto", "max", "maximum", "до", "qədər", "dək", "not more than"}

type amount struct {
	val        float64
	start, end int // byte offsets in the lowered text
	kilo       bool
}

type mark struct {
	code       string
	start, end int
}

// ParseSalary parses a salary field. It returns false when s holds no amount.
func ParseSalary(s string) (model.Salary, bool) {
	return parseSalary(s, false)
}

// FindSalary looks for a salary in prose (a title or description), trusting
// only amounts written next to a currency. It returns false when there is
// none.
func FindSalary(s string) (model.Salary, bool) {
	return parseSalary(s, true)
}

const maxSalaryInput = 4000

func parseSalary(s string, prose bool) (model.Salary, bool) {
	if len(s) > maxSalaryInput && !prose {
		s = truncate(s, maxSalaryInput)
	}
	if len(s) > 200000 {
		s = truncate(s, 200000)
	}
	t := strings.ToLower(Text(s))
	if prose {
		// Text caps lines; prose needs its whole length.
		t = strings.ToLower(collapse(strings.ToValidUTF8(s, " "), false))
	}
	amounts := findAmounts(t)
	if len(amounts) == 0 {
		return model.Salary{}, false
	}
	marks := findCurrencies(t)
	anchored := func(a amount) (string, bool) {
		for _, m := range marks {
			// Sign or word right before ("$ 90k", "AZN 1500") or right
			// after ("1500 AZN", "90k€").
			if m.end <= a.start && onlyGap(t[m.end:a.start]) {
				return m.code, true
			}
			if m.start >= a.end && onlyGap(t[a.end:m.start]) {
				return m.code, true
			}
		}
		return "", false
	}
	first := -1
	currency := ""
	for i, a := range amounts {
		if c, ok := anchored(a); ok {
			first, currency = i, c
			break
		}
	}
	if first < 0 {
		if prose {
			return model.Salary{}, false
		}
		first = 0
		if len(marks) > 0 {
			currency = marks[0].code
		}
	}
	lo, hi := amounts[first], amounts[first]
	isRange := false
	// A range: the anchored amount with its neighbour joined by a dash or
	// "to"/"до"/"-".
	if first+1 < len(amounts) && rangeGap(t[amounts[first].end:amounts[first+1].start]) {
		hi, isRange = amounts[first+1], true
	} else if first > 0 && rangeGap(t[amounts[first-1].end:amounts[first].start]) {
		lo, isRange = amounts[first-1], true
	}
	if isRange && hi.kilo && !lo.kilo && lo.val < 1000 {
		lo.val *= 1000
	}
	sal := model.Salary{Currency: currency}
	before := t[:lo.start]
	if isRange {
		sal.Min, sal.Max = lo.val, hi.val
		if sal.Min > sal.Max {
			sal.Min, sal.Max = sal.Max, sal.Min
		}
	} else {
		after := t[hi.end:]
		switch {
		case endsWithAny(before, fromWords) || strings.HasPrefix(strings.TrimSpace(after), "+"):
			sal.Min = lo.val
		case endsWithAny(before, uptoWords):
			sal.Max = lo.val
		case startsWithAny(stripCurrencyPrefix(after), []string{"dən", "dan", "-dən", "-dan", "-den", "den"}):
			sal.Min = lo.val
		case startsWithAny(stripCurrencyPrefix(after), []string{"qədər", "-dək", "dək", "-ə qədər", "-a qədər"}):
			sal.Max = lo.val
		default:
			sal.Min, sal.Max = lo.val, lo.val
		}
	}
	sal.Period = findPeriod(t, hi.end, prose)
	if sal.Min <= 0 && sal.Max <= 0 {
		return model.Salary{}, false
	}
	return sal, true
}

func stripCurrencyPrefix(s string) string {
	s = strings.TrimSpace(s)
	for _, m := range currencySigns {
		s = strings.TrimPrefix(s, m.mark)
	}
	for w := range currencyWords {
		if strings.HasPrefix(s, w) && len(w) > 2 {
			s = s[len(w):]
			break
		}
	}
	return strings.TrimSpace(s)
}

func endsWithAny(s string, words []string) bool {
	s = strings.TrimRightFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == ':' || strings.ContainsRune("$€₼₽£₺", r)
	})
	for _, w := range words {
		if strings.HasSuffix(s, w) {
			rest := s[:len(s)-len(w)]
			if rest == "" {
				return true
			}
			r, _ := utf8.DecodeLastRuneInString(rest)
			if !unicode.IsLetter(r) {
				return true
			}
		}
	}
	return false
}

func startsWithAny(s string, words []string) bool {
	for _, w := range words {
		if strings.HasPrefix(s, w) {
			return true
		}
	}
	return false
}

// onlyGap reports whether s is short and holds nothing but spaces and
// punctuation that may sit between an amount and its currency.
func onlyGap(s string) bool {
	if len(s) > 3 {
		return false
	}
	for _, r := range s {
		if !unicode.IsSpace(r) && r != '.' && r != ':' {
			return false
		}
	}
	return true
}

// rangeGap reports whether s joins two amounts into a range.
func rangeGap(s string) bool {
	s = strings.TrimSpace(s)
	for _, m := range currencySigns {
		s = strings.TrimSpace(strings.ReplaceAll(s, m.mark, ""))
	}
	for w := range currencyWords {
		if len(w) > 2 {
			s = strings.TrimSpace(strings.ReplaceAll(s, w, ""))
		}
	}
	switch s {
	case "-", "–", "—", "−", "to", "до", "-до", "and", "~", "...", "..", "/ -", "- ", "-dək", "dək", "ilə", "и":
		return true
	}
	return false
}

// findAmounts returns the numbers of t with their multipliers applied.
func findAmounts(t string) []amount {
	var out []amount
	i := 0
	for i < len(t) && len(out) < 64 {
		c := t[i]
		if c < '0' || c > '9' {
			i++
			continue
		}
		// Skip digits glued to letters before ("401k" is kept, "h1b", "x2").
		if i > 0 {
			r, _ := utf8.DecodeLastRuneInString(t[:i])
			if unicode.IsLetter(r) && r != 'k' {
				for i < len(t) && (t[i] >= '0' && t[i] <= '9') {
					i++
				}
				continue
			}
		}
		start := i
		intPart, end := scanNumber(t, i)
		i = end
		if intPart < 0 {
			continue
		}
		a := amount{val: intPart, start: start, end: end}
		// Multiplier suffix.
		rest := t[end:]
		trim := strings.TrimLeft(rest, " ")
		skipped := len(rest) - len(trim)
		for _, suf := range []string{"k", "к", "тыс.", "тыс", "min"} {
			if strings.HasPrefix(trim, suf) {
				after := trim[len(suf):]
				r, _ := utf8.DecodeRuneInString(after)
				if suf == "min" {
					// Azerbaijani "min" is a thousand ("5 min AZN").
					if !(after == "" || r == ' ' || r == '.') || !strings.Contains(t, "azn") && !strings.Contains(t, "manat") && !strings.Contains(t, "₼") {
						continue
					}
				}
				if suf == "k" || suf == "к" {
					if skipped > 1 || (after != "" && (unicode.IsLetter(r) || unicode.IsDigit(r))) {
						continue
					}
				}
				a.val *= 1000
				a.kilo = true
				a.end = end + skipped + len(suf)
				i = a.end
				break
			}
		}
		if a.val > 0 && a.val < 1e9 && !math.IsInf(a.val, 0) {
			out = append(out, a)
		}
	}
	return out
}

// scanNumber reads "190,800", "1 500", "1.500", "1'500", "2500.50", "1.5"
// starting at t[i]; it returns the value and the end offset, or -1.
func scanNumber(t string, i int) (float64, int) {
	var digits strings.Builder
	j := i
	for j < len(t) && t[j] >= '0' && t[j] <= '9' {
		digits.WriteByte(t[j])
		j++
	}
	groupsOK := digits.Len() <= 3
	frac := ""
	for j < len(t) {
		// A separator followed by exactly three digits is a thousands
		// separator, with 1-2 digits a decimal point.
		sepLen := 0
		switch {
		case t[j] == ',' || t[j] == '.' || t[j] == ' ' || t[j] == '\'':
			sepLen = 1
		case strings.HasPrefix(t[j:], "\u00a0"), strings.HasPrefix(t[j:], "\u202f"), strings.HasPrefix(t[j:], "\u2009"):
			sepLen = len("\u00a0")
			if strings.HasPrefix(t[j:], "\u202f") || strings.HasPrefix(t[j:], "\u2009") {
				sepLen = 3
			}
		}
		if sepLen == 0 {
			break
		}
		k := j + sepLen
		n := 0
		for k+n < len(t) && t[k+n] >= '0' && t[k+n] <= '9' {
			n++
		}
		if n == 3 && groupsOK && frac == "" {
			digits.WriteString(t[k : k+3])
			j = k + 3
			continue
		}
		if (n == 1 || n == 2) && (t[j] == '.' || t[j] == ',') && frac == "" {
			frac = t[k : k+n]
			j = k + n
		}
		break
	}
	if digits.Len() > 12 {
		return -1, j
	}
	s := digits.String()
	if frac != "" {
		s += "." + frac
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return -1, j
	}
	return v, j
}

func findCurrencies(t string) []mark {
	var out []mark
	for _, c := range currencySigns {
		off := 0
		for {
			k := strings.Index(t[off:], c.mark)
			if k < 0 {
				break
			}
			st := off + k
			off = st + len(c.mark)
			// "us$" is also found as "$"; keep the longer one.
			dup := false
			for _, m := range out {
				if st >= m.start && st < m.end {
					dup = true
				}
			}
			if !dup {
				out = append(out, mark{c.code, st, off})
			}
		}
	}
	// Words at word boundaries.
	wordStart := -1
	for i, r := range t + " " {
		letter := unicode.IsLetter(r) || r == '.'
		if letter && wordStart < 0 {
			wordStart = i
		}
		if !letter && wordStart >= 0 {
			w := t[wordStart:i]
			code, ok := currencyWords[w]
			if !ok {
				code, ok = currencyWords[strings.TrimSuffix(w, ".")]
				if ok {
					i = wordStart + len(strings.TrimSuffix(w, "."))
				}
			}
			if ok {
				out = append(out, mark{code, wordStart, i})
			}
			wordStart = -1
		}
		if len(out) > 64 {
			break
		}
	}
	return out
}

func findPeriod(t string, from int, prose bool) string {
	tail := strings.ReplaceAll(t[from:], "/ ", "/")
	if prose && len(tail) > 40 {
		tail = truncate(tail, 40)
	}
	best, bestAt := "", len(tail)+1
	for _, p := range periodWords {
		if i := strings.Index(tail, p.mark); i >= 0 && i < bestAt {
			// "/h" must not be the start of "/hour"-like words handled
			// elsewhere, or of unrelated words.
			end := i + len(p.mark)
			if end < len(tail) {
				r, _ := utf8.DecodeRuneInString(tail[end:])
				if unicode.IsLetter(r) && !strings.HasSuffix(p.mark, "annual") {
					continue
				}
			}
			best, bestAt = p.period, i
		}
	}
	if best == "" && !prose {
		// Field text: the period may come first ("Monthly: 1500 AZN").
		for _, p := range periodWords {
			if strings.Contains(t[:from], strings.TrimSpace(p.mark)) && len(strings.TrimSpace(p.mark)) > 3 {
				return p.period
			}
		}
	}
	return best
}

// InferPeriod fills in the period of a salary that does not state one, by
// the conventions of job boards: hourly amounts are small, yearly ones
// large; in the manat, rouble and the region's other currencies pay is
// quoted per month. It leaves a stated period alone.
func InferPeriod(s model.Salary) model.Salary {
	if s.Period != "" || s.IsZero() {
		return s
	}
	amt := s.Max
	if s.Min > 0 {
		amt = s.Min
	}
	switch s.Currency {
	case "AZN", "RUB", "UAH", "KZT", "GEL", "TRY":
		if amt >= 300000 && s.Currency != "RUB" && s.Currency != "KZT" {
			s.Period = "year"
		} else {
			s.Period = "month"
		}
	case "USD", "EUR", "GBP":
		switch {
		case amt < 250:
			s.Period = "hour"
		case amt >= 15000:
			s.Period = "year"
		default:
			s.Period = "month"
		}
	}
	return s
}
