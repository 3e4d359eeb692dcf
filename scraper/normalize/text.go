package normalize

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	nethtml "golang.org/x/net/html"
)

// MaxTextLen caps a single-line field (title, company, location) in bytes.
const MaxTextLen = 500

// MaxDescriptionLen caps a description in bytes.
const MaxDescriptionLen = 20000

// Text returns s as one clean line: invalid UTF-8 replaced, HTML entities
// decoded, control characters and runs of white space (including no-break
// and zero-width spaces) folded to one space, trimmed, and cut to
// MaxTextLen bytes at a rune boundary.
func Text(s string) string {
	return truncate(collapse(html.UnescapeString(strings.ToValidUTF8(s, "\uFFFD")), false), MaxTextLen)
}

// collapse folds white space; with keepLines, line breaks survive (at most
// one blank line in a row).
func collapse(s string, keepLines bool) string {
	var b strings.Builder
	b.Grow(len(s))
	space, newlines := false, 0
	started := false
	for _, r := range s {
		switch {
		case r == '\n' && keepLines:
			if started {
				newlines++
			}
			space = false
			continue
		case r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\ufeff' || r == '\u2060' || r == '\u00ad':
			continue
		case unicode.IsSpace(r):
			if started {
				space = true
			}
			continue
		case unicode.IsControl(r):
			continue
		}
		if newlines > 0 {
			if newlines > 2 {
				newlines = 2
			}
			b.WriteString(strings.Repeat("\n", newlines))
			newlines, space = 0, false
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		started = true
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimSpace(s[:n])
}

// block elements whose boundaries become line breaks in Description.
var blockTags = map[string]bool{
	"p": true, "div": true, "br": true, "li": true, "ul": true, "ol": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"tr": true, "table": true, "section": true, "article": true, "blockquote": true,
	"pre": true, "hr": true, "dd": true, "dt": true, "header": true, "footer": true,
}

// Description turns an HTML (or plain text) description into plain text:
// markup removed (script and style with their content), entities decoded,
// paragraphs and list items on lines of their own, white space folded and
// the result capped at MaxDescriptionLen. The result is text, never markup.
func Description(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if !strings.ContainsAny(s, "<&") {
		return truncate(collapse(s, true), MaxDescriptionLen)
	}
	// Entity-escaped markup ("&lt;p&gt;") is common in feeds: decode once
	// first when there is no real markup.
	if !strings.Contains(s, "<") {
		s = html.UnescapeString(s)
	}
	var b strings.Builder
	z := nethtml.NewTokenizer(strings.NewReader(s))
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case nethtml.ErrorToken:
			return truncate(collapse(b.String(), true), MaxDescriptionLen)
		case nethtml.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case nethtml.StartTagToken, nethtml.EndTagToken, nethtml.SelfClosingTagToken:
			name, _ := z.TagName()
			tag := string(name)
			if tag == "script" || tag == "style" || tag == "noscript" || tag == "template" {
				if tt == nethtml.StartTagToken {
					skip++
				} else if tt == nethtml.EndTagToken && skip > 0 {
					skip--
				}
				continue
			}
			if blockTags[tag] && !(tag == "li" && tt == nethtml.EndTagToken) {
				b.WriteByte('\n')
				if tag == "li" && tt == nethtml.StartTagToken {
					b.WriteString("• ")
				}
			}
		}
		if b.Len() > 4*MaxDescriptionLen {
			return truncate(collapse(b.String(), true), MaxDescriptionLen)
		}
	}
}

// remoteWords mark a posting as remote, in English, Azerbaijani and Russian.
var remoteWords = []string{
	"remote", "work from home", "work-from-home", "wfh", "telecommute", "telework",
	"home office", "home-based", "anywhere", "uzaqdan", "distant iş", "evdən iş",
	"удалённ", "удаленн", "дистанционн",
}

// IsRemote reports whether any of the texts says the job is remote
// (schema.org's jobLocationType TELECOMMUTE included).
func IsRemote(texts ...string) bool {
	for _, t := range texts {
		t = strings.ToLower(t)
		if strings.Contains(t, "telecommute") {
			return true
		}
		for _, w := range remoteWords {
			if strings.Contains(t, w) {
				// "not remote", "no remote" are refusals.
				i := strings.Index(t, w)
				pre := strings.TrimSpace(t[:i])
				if strings.HasSuffix(pre, "not") || strings.HasSuffix(pre, "no") || strings.HasSuffix(pre, "non") || strings.HasSuffix(pre, "non-") {
					continue
				}
				return true
			}
		}
	}
	return false
}
