// Package textfold folds text for matching: case, diacritics and script
// quirks of Azerbaijani, Turkish, Russian and English are erased, so that a
// person who types "muhendis" finds "MÜHƏNDİS" and "Bakı" finds "BAKI".
//
// The matcher uses it for alerts and for the job search (which runs the
// alerts' query language through matcher.Search), so that what is indexed
// and what is searched are folded the same way.
//
// # Folding rules
//
// Fold applies, in order:
//
//  1. Unicode NFKC normalisation (composed letters, fullwidth forms and
//     ligatures become plain letters: "ﬁ" → "fi", "Ｊava" → "java").
//  2. Lower case, locale independent, with every form of the Latin letter i
//     folded to plain "i": I, i, İ (dotted capital, Azerbaijani/Turkish) and
//     ı (dotless small) all become "i". A Turkish or Azerbaijani "I" is
//     lower-cased to "ı" by its own rules and "İ" to "i"; folding both to "i"
//     makes the result independent of the language a text was written in and
//     of the keyboard the searcher has.
//  3. Latin diacritics are stripped: ə → e, ş → s, ç → c, ğ → g, ö → o,
//     ü → u, é → e, ñ → n, and so on (any Latin letter whose canonical
//     decomposition is a base letter plus marks); ß → ss, æ → ae, œ → oe,
//     ø → o, đ → d, ł → l.
//  4. Cyrillic is lower-cased; ё → е (Russian writes ё and е
//     interchangeably); й is kept, since it is a distinct letter. The
//     Azerbaijani Cyrillic ә → е and ғ → г, ҹ → ч, һ → х, ј → й, ө → о,
//     ү → у, ы stays.
//  5. Combining marks that survive normalisation, format characters (zero
//     width spaces and joiners, soft hyphens, bidi controls) and control
//     characters other than white space are removed.
//
// Everything else (digits, punctuation, other scripts) passes through
// lower-cased.
//
// # Tokens
//
// Tokens splits folded text into words: maximal runs of letters and digits.
// A "+" or "#" directly after a word belongs to it, so "C++", "C#" and "F#"
// stay searchable as "c++", "c#" and "f#". Everything else separates words:
// ".NET" is "net", "node.js" is "node" "js", "full-time" is "full" "time".
package textfold

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// latin holds the folding of U+0000–U+024F (ASCII, Latin-1 Supplement,
// Latin Extended-A and -B), computed once. Zero means "drop the rune".
var latin [0x250]rune

// special are foldings to more than one rune.
var special = map[rune]string{
	'ß': "ss", 'ẞ': "ss", 'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe",
}

// cyrillic maps Cyrillic runes (after lower-casing) that fold to another.
var cyrillic = map[rune]rune{
	'ё': 'е', 'ә': 'е', 'ғ': 'г', 'ҹ': 'ч', 'һ': 'х', 'ј': 'й', 'ө': 'о', 'ү': 'у',
}

// fast holds the complete folding of U+0000–U+052F (Latin, IPA, Greek,
// Cyrillic): a rune, 0 for "drop", or -(i+1) for fastStrings[i].
var (
	fast        [0x530]rune
	fastStrings []string
	// inert marks runes of the table that are NFKC-normal and never
	// combine with the rune before them: a text of only such runes is
	// NFKC-normal and needs no check.
	inert [0x530]bool
)

func init() {
	for r := rune(0); r < rune(len(latin)); r++ {
		latin[r] = foldLatinSlow(r)
	}
	for r := rune(0); r < rune(len(fast)); r++ {
		p := norm.NFKC.PropertiesString(string(r))
		inert[r] = p.BoundaryBefore() && p.CCC() == 0 && norm.NFKC.IsNormalString(string(r))
		f := foldFull(r)
		switch n := utf8.RuneCountInString(f); {
		case n == 0:
			fast[r] = 0
		case n == 1 && f != string(utf8.RuneError):
			fast[r], _ = utf8.DecodeRuneInString(f)
		default:
			fastStrings = append(fastStrings, f)
			fast[r] = -rune(len(fastStrings))
		}
	}
}

// foldFull folds one rune completely (a decomposed base may itself need
// folding: ǣ → æ → ae).
func foldFull(r rune) string {
	f, str := foldRune(r)
	if f >= 0x80 {
		if f2, str2 := foldRune(f); f2 != f {
			f, str = f2, str2
		}
	}
	if f != 0 {
		return string(f)
	}
	return str
}

func foldLatinSlow(r rune) rune {
	switch r {
	case 'I', 'i', 'İ', 'ı':
		return 'i'
	case 'Ə':
		return 'e'
	case 'Ø', 'ø':
		return 'o'
	case 'Đ', 'đ':
		return 'd'
	case 'Ł', 'ł':
		return 'l'
	case 'Ħ', 'ħ':
		return 'h'
	}
	if r < 0x80 {
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return 0
		}
		return r
	}
	if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
		return 0
	}
	l := unicode.ToLower(r)
	if !unicode.Is(unicode.Latin, l) {
		return l
	}
	d := norm.NFD.String(string(l))
	base, _ := utf8.DecodeRuneInString(d)
	return base
}

// foldRune returns the folding of r as a rune, or (0, s) when it folds to
// the string s ("" = dropped).
func foldRune(r rune) (rune, string) {
	if r < rune(len(latin)) {
		if f := latin[r]; f != 0 {
			if s, ok := special[r]; ok {
				return 0, s
			}
			return f, ""
		}
		if s, ok := special[r]; ok {
			return 0, s
		}
		return 0, ""
	}
	if s, ok := special[r]; ok {
		return 0, s
	}
	if unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Cf, r) || unicode.IsControl(r) {
		return 0, ""
	}
	l := unicode.ToLower(r)
	if l >= 0x400 && l <= 0x52f {
		if c, ok := cyrillic[l]; ok {
			return c, ""
		}
		return l, ""
	}
	if l == 'ə' { // U+0259, just past the table
		return 'e', ""
	}
	if unicode.Is(unicode.Latin, l) {
		d := norm.NFD.String(string(l))
		base, _ := utf8.DecodeRuneInString(d)
		return base, ""
	}
	return l, ""
}

// Fold returns s folded for matching by the rules of the package doc.
// Invalid UTF-8 bytes are dropped.
func Fold(s string) string {
	if isFoldedASCII(s) {
		return s
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	if !allInert(s) && !norm.NFKC.IsNormalString(s) {
		s = norm.NFKC.String(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				continue
			}
		}
		if r < rune(len(fast)) {
			switch f := fast[r]; {
			case f > 0:
				b.WriteRune(f)
			case f < 0:
				b.WriteString(fastStrings[-f-1])
			}
			continue
		}
		f, str := foldRune(r)
		if f >= 0x80 {
			// A decomposed base may itself need folding (ǣ → æ → ae).
			if f2, str2 := foldRune(f); f2 != f {
				f, str = f2, str2
			}
		}
		if f != 0 {
			b.WriteRune(f)
		} else {
			b.WriteString(str)
		}
	}
	return b.String()
}

// allInert reports whether every rune of s is in the table and inert.
func allInert(s string) bool {
	for _, r := range s {
		if r >= rune(len(inert)) || !inert[r] {
			return false
		}
	}
	return true
}

// isFoldedASCII reports whether s is printable ASCII with no capitals, which
// Fold returns unchanged.
func isFoldedASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c >= 'A' && c <= 'Z' || c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return true
}

// Tokens returns the word tokens of Fold(s), in order, duplicates kept.
func Tokens(s string) []string {
	return AppendTokens(nil, s)
}

// AppendTokens appends the word tokens of Fold(s) to dst and returns it; it
// lets hot paths reuse a slice.
func AppendTokens(dst []string, s string) []string {
	return appendTokensFolded(dst, Fold(s))
}

// TokensFolded splits already folded text into tokens, like Tokens.
func TokensFolded(folded string) []string {
	return appendTokensFolded(nil, folded)
}

func appendTokensFolded(dst []string, f string) []string {
	start := -1
	for i := 0; i < len(f); {
		r, size := rune(f[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(f[i:])
		}
		word := r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9') ||
			r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r))
		switch {
		case word:
			if start < 0 {
				start = i
			}
			i += size
		case start >= 0 && (r == '+' || r == '#'):
			// Trailing + and # stay with their word: c++, c#, f#.
			j := i
			for j < len(f) && (f[j] == '+' || f[j] == '#') {
				j++
			}
			dst = append(dst, f[start:j])
			start = -1
			i = j
		default:
			if start >= 0 {
				dst = append(dst, f[start:i])
				start = -1
			}
			i += size
		}
	}
	if start >= 0 {
		dst = append(dst, f[start:])
	}
	return dst
}
