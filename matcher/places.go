package matcher

import (
	"strings"

	"github.com/birjob/birjob/textfold"
)

// placeRemote is the place key of remote jobs.
const placeRemote = "remote"

// places lists the known places: a canonical key, the country key it lies
// in ("" for a country or for remote), and its spellings in Azerbaijani,
// English, Russian and Turkish, with and without diacritics. Spellings are
// folded at start, so "Bakı", "Baki" and "BAKI" are one spelling.
var places = []struct {
	key, country string
	names        []string
}{
	{"baku", "azerbaijan", []string{"Baku", "Bakı", "Bakü", "Баку", "Бакы"}},
	{"sumgait", "azerbaijan", []string{"Sumqayıt", "Sumgait", "Sumgayit", "Sumqait", "Сумгаит", "Сумгайыт"}},
	{"ganja", "azerbaijan", []string{"Gəncə", "Ganja", "Gandja", "Gyandzha", "Гянджа", "Гянджя"}},
	{"mingachevir", "azerbaijan", []string{"Mingəçevir", "Mingachevir", "Mingechevir", "Мингечевир", "Мингячевир"}},
	{"shirvan", "azerbaijan", []string{"Şirvan", "Shirvan", "Ширван"}},
	{"lankaran", "azerbaijan", []string{"Lənkəran", "Lankaran", "Lenkoran", "Ленкорань", "Лянкяран"}},
	{"shaki", "azerbaijan", []string{"Şəki", "Shaki", "Sheki", "Шеки", "Шяки"}},
	{"nakhchivan", "azerbaijan", []string{"Naxçıvan", "Nakhchivan", "Nakhichevan", "Нахчыван", "Нахичевань"}},
	{"quba", "azerbaijan", []string{"Quba", "Guba", "Губа"}},
	{"khirdalan", "azerbaijan", []string{"Xırdalan", "Khirdalan", "Хырдалан"}},
	{"shamakhi", "azerbaijan", []string{"Şamaxı", "Shamakhi", "Шемаха", "Шамахы"}},
	{"gabala", "azerbaijan", []string{"Qəbələ", "Gabala", "Габала"}},
	{"khachmaz", "azerbaijan", []string{"Xaçmaz", "Khachmaz", "Хачмаз"}},
	{"zagatala", "azerbaijan", []string{"Zaqatala", "Zagatala", "Закатала"}},
	{"absheron", "azerbaijan", []string{"Abşeron", "Absheron", "Апшерон"}},
	{"azerbaijan", "", []string{"Azərbaycan", "Azerbaijan", "Azerbaycan", "Азербайджан", "Azerbaijan Republic"}},
	{"tbilisi", "georgia", []string{"Tbilisi", "Tiflis", "Тбилиси"}},
	{"georgia", "", []string{"Gürcüstan", "Georgia", "Грузия", "Gürcistan"}},
	{"istanbul", "turkey", []string{"İstanbul", "Istanbul", "Стамбул"}},
	{"ankara", "turkey", []string{"Ankara", "Анкара"}},
	{"turkey", "", []string{"Türkiyə", "Türkiye", "Turkey", "Турция"}},
	{"moscow", "russia", []string{"Moskva", "Moscow", "Москва"}},
	{"saint-petersburg", "russia", []string{"Sankt-Peterburq", "Saint Petersburg", "St Petersburg", "St. Petersburg", "Санкт-Петербург", "Петербург", "СПб"}},
	{"russia", "", []string{"Rusiya", "Russia", "Россия", "Rusya"}},
	{"dubai", "uae", []string{"Dubay", "Dubai", "Дубай"}},
	{"uae", "", []string{"BƏƏ", "UAE", "United Arab Emirates", "ОАЭ", "Birləşmiş Ərəb Əmirlikləri"}},
	{"london", "uk", []string{"London", "Лондон"}},
	{"uk", "", []string{"United Kingdom", "UK", "Böyük Britaniya", "Великобритания"}},
	{"berlin", "germany", []string{"Berlin", "Берлин"}},
	{"germany", "", []string{"Almaniya", "Germany", "Deutschland", "Германия"}},
	{placeRemote, "", []string{"Remote", "Uzaqdan", "Distant", "Distance", "Удаленно", "Удалённо", "Удаленная работа", "Удаленка", "Work from home", "Home office", "Evdən iş", "Uzaktan"}},
}

// placeNames maps the folded token sequence of a spelling (joined by a
// space) to its place index; maxPlaceWords is the longest spelling.
var (
	placeNames    = map[string]int{}
	maxPlaceWords = 1
)

func init() {
	for i, p := range places {
		for _, n := range append([]string{p.key}, p.names...) {
			toks := textfold.Tokens(n)
			placeNames[strings.Join(toks, " ")] = i
			maxPlaceWords = max(maxPlaceWords, len(toks))
		}
	}
}

// findPlaces returns the indexes of the places named in the token sequence.
func findPlaces(toks []string) []int {
	var out []int
	for i := range toks {
		for n := 1; n <= maxPlaceWords && i+n <= len(toks); n++ {
			if p, ok := placeNames[strings.Join(toks[i:i+n], " ")]; ok {
				out = appendUniq(out, p)
			}
		}
	}
	return out
}

func appendUniq(s []int, v int) []int {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// jobPlaces returns the place keys of a job: each place its location names,
// the country of each named city, and "remote" for remote jobs.
func jobPlaces(locToks []string, remote bool) []string {
	var keys []string
	add := func(k string) {
		for _, x := range keys {
			if x == k {
				return
			}
		}
		keys = append(keys, k)
	}
	for _, i := range findPlaces(locToks) {
		add(places[i].key)
		if c := places[i].country; c != "" {
			add(c)
		}
	}
	if remote {
		add(placeRemote)
	}
	return keys
}
