package normalize

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// absoluteLayouts are tried in order on the trimmed input.
var absoluteLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05Z07",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/01/02",
	"2006.01.02",
	time.RFC1123,
	time.RFC1123Z,
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 02 Jan 2006 15:04:05 -0700 (MST)",
	"Mon, 2 Jan 2006 15:04 MST",
	"2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700",
	time.RFC850,
	time.ANSIC,
	time.UnixDate,
	time.RubyDate,
	"02.01.2006 15:04:05",
	"02.01.2006 15:04",
	"02.01.2006",
	"2.1.2006",
	"02/01/2006",
	"2/1/2006",
	"02-01-2006",
	"January 2, 2006",
	"January 2 2006",
	"Jan 2, 2006",
	"Jan 2 2006",
	"2 January 2006",
	"2 Jan 2006",
	"Monday, January 2, 2006",
	"Mon, Jan 2, 2006",
	"January 2006",
	"Jan 2006",
}

// Month names of Azerbaijani and Russian (stems, lower case), replaced by
// English short names before the layouts are tried.
var monthNames = []struct{ stem, en string }{
	{"yanvar", "Jan"}, {"fevral", "Feb"}, {"mart", "Mar"}, {"aprel", "Apr"}, {"may", "May"},
	{"iyun", "Jun"}, {"iyul", "Jul"}, {"avqust", "Aug"}, {"sentyabr", "Sep"}, {"oktyabr", "Oct"},
	{"noyabr", "Nov"}, {"dekabr", "Dec"},
	{"январ", "Jan"}, {"феврал", "Feb"}, {"март", "Mar"}, {"апрел", "Apr"}, {"мая", "May"}, {"май", "May"},
	{"июн", "Jun"}, {"июл", "Jul"}, {"август", "Aug"}, {"сентябр", "Sep"}, {"октябр", "Oct"},
	{"ноябр", "Nov"}, {"декабр", "Dec"},
}

var (
	reRelative  = regexp.MustCompile(`(\d{1,4}|an?|one|bir|один|одна|одну)\+?\s*(second|sec|minute|min|hour|hr|day|week|wk|month|year|yr|saniyə|dəqiqə|saat|gün|həftə|ay|il|секунд|сек|минут|мин|час|дн|день|дня|недел|месяц|мес|год|лет)[a-zа-яəöüğışç.]*\s*(ago|əvvəl|once|назад)`)
	reWordMonth = regexp.MustCompile(`^(\d{1,2})\s+([a-zа-яəöüğışç]+)\.?,?\s+(\d{4})`)
	reDigits    = regexp.MustCompile(`^\d{9,13}$`)
	reLeadWords = regexp.MustCompile(`^(posted|published|date posted|updated|on|yerləşdirilib|tarix|опубликовано|размещено|дата)[:\s]+`)
)

// ParseDate parses an absolute or relative date; see the package
// documentation. Relative dates are computed from now; a date without a zone
// is taken in now's location.
func ParseDate(s string, now time.Time) (time.Time, bool) {
	s = Text(s)
	if s == "" || len(s) > 200 {
		return time.Time{}, false
	}
	t, ok := parseDate(s, now)
	if !ok {
		return time.Time{}, false
	}
	if t.Year() < 1990 || t.After(now.AddDate(2, 0, 0)) {
		return time.Time{}, false
	}
	return t, true
}

func parseDate(s string, now time.Time) (time.Time, bool) {
	loc := now.Location()
	for _, l := range absoluteLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, true
		}
	}
	if t, err := http.ParseTime(s); err == nil {
		return t, true
	}
	if reDigits.MatchString(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err == nil {
			if len(s) == 13 {
				return time.UnixMilli(n).In(loc), true
			}
			return time.Unix(n, 0).In(loc), true
		}
	}
	low := strings.ToLower(s)
	low = reLeadWords.ReplaceAllString(low, "")
	// Leading ISO date in a longer string ("2024-05-01 (Baku)").
	if len(low) >= 10 {
		if t, err := time.ParseInLocation("2006-01-02", low[:10], loc); err == nil {
			return t, true
		}
	}
	day := func(t time.Time) time.Time {
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	switch {
	case strings.HasPrefix(low, "just now"), strings.HasPrefix(low, "now"), strings.HasPrefix(low, "indicə"),
		strings.HasPrefix(low, "только что"), strings.HasPrefix(low, "moments ago"):
		return now, true
	case strings.HasPrefix(low, "today"), strings.HasPrefix(low, "bu gün"), strings.HasPrefix(low, "bugün"),
		strings.HasPrefix(low, "сегодня"):
		return day(now), true
	case strings.HasPrefix(low, "yesterday"), strings.HasPrefix(low, "dünən"), strings.HasPrefix(low, "вчера"):
		return day(now.AddDate(0, 0, -1)), true
	case strings.HasPrefix(low, "позавчера"), strings.HasPrefix(low, "srağagün"):
		return day(now.AddDate(0, 0, -2)), true
	}
	if m := reRelative.FindStringSubmatch(low); m != nil {
		n := 1
		if v, err := strconv.Atoi(m[1]); err == nil {
			n = v
		}
		u := m[2]
		switch {
		case strings.HasPrefix(u, "sec"), u == "saniyə", strings.HasPrefix(u, "сек"):
			return now.Add(-time.Duration(n) * time.Second), true
		case strings.HasPrefix(u, "min"), u == "dəqiqə", strings.HasPrefix(u, "мин"):
			return now.Add(-time.Duration(n) * time.Minute), true
		case strings.HasPrefix(u, "w"), u == "həftə", strings.HasPrefix(u, "недел"):
			return now.AddDate(0, 0, -7*n), true
		case strings.HasPrefix(u, "h"), u == "saat", u == "час":
			return now.Add(-time.Duration(n) * time.Hour), true
		case u == "day", u == "gün", u == "дн", u == "день", u == "дня":
			return now.AddDate(0, 0, -n), true
		case strings.HasPrefix(u, "w"), u == "həftə", strings.HasPrefix(u, "недел"):
			return now.AddDate(0, 0, -7*n), true
		case u == "month", u == "ay", strings.HasPrefix(u, "мес"):
			return now.AddDate(0, -n, 0), true
		case strings.HasPrefix(u, "y"), u == "il", u == "год", u == "лет":
			return now.AddDate(-n, 0, 0), true
		}
	}
	// "12 may 2024", "12 мая 2024", "5 yanvar 2024".
	if m := reWordMonth.FindStringSubmatch(low); m != nil {
		mon := m[2]
		for _, mn := range monthNames {
			if strings.HasPrefix(mon, mn.stem) {
				mon = mn.en
				break
			}
		}
		for _, l := range []string{"2 Jan 2006", "2 January 2006"} {
			if t, err := time.ParseInLocation(l, m[1]+" "+capitalize(mon)+" "+m[3], loc); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
