package matcher

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/birjob/birjob/textfold"
)

// Limits that keep a hostile query cheap to parse, index and evaluate.
const (
	MaxQueryLen   = 1000 // bytes
	MaxQueryTerms = 64   // words and phrases
	MaxQueryDepth = 10   // nested parentheses
	minPrefixLen  = 2    // runes before a trailing *
)

// Field is a bit set of the job fields a term may match.
type Field uint8

// Fields of a job that query terms can be restricted to.
const (
	FieldTitle Field = 1 << iota
	FieldCompany
	FieldDescription
	FieldLocation
	// FieldText is where a word without a field prefix is looked for.
	FieldText = FieldTitle | FieldCompany | FieldDescription
)

var fieldNames = map[string]Field{
	"title":       FieldTitle,
	"company":     FieldCompany,
	"description": FieldDescription,
	"desc":        FieldDescription,
	"location":    FieldLocation,
}

func (f Field) String() string {
	switch f {
	case FieldTitle:
		return "title"
	case FieldCompany:
		return "company"
	case FieldDescription:
		return "description"
	case FieldLocation:
		return "location"
	case FieldText:
		return "text"
	}
	return fmt.Sprintf("fields(%d)", uint8(f))
}

// ParseError is a query that cannot be parsed. Pos is the 0-based character
// (not byte) offset of the problem in the query.
type ParseError struct {
	Pos int
	Msg string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s at %d", e.Msg, e.Pos) }

// Query is a parsed free-text query. The zero Query (and the result of
// parsing an empty query) matches every job.
type Query struct {
	root *node
}

// String returns the query in a canonical form: folded words, explicit
// operators, for logs and tests.
func (q *Query) String() string {
	if q == nil || q.root == nil {
		return ""
	}
	return q.root.String()
}

type nodeKind uint8

const (
	kTerm   nodeKind = iota // toks[0] in field (prefix: a token starting with toks[0])
	kPhrase                 // toks in a row in one of the fields
	kAnd
	kOr
	kNot
	kPlace  // toks[0] is a place key the job is in
	kRemote // the job is remote (want) / on site (!want)
	kSource // toks[0] is the folded source name
	kEmp    // the job's employment type is one of toks, or unknown
)

// node is a boolean expression over a job; queries and whole criteria
// compile to it.
type node struct {
	kind   nodeKind
	field  Field
	prefix bool
	want   bool
	toks   []string
	kids   []*node
	// tids are the ids of toks in an Index's token dictionary, set when
	// the node is indexed, so that evaluation avoids hashing strings.
	tids []uint32
	pid  uint32 // a phrase's id in an Index's phrase dictionary, plus one
}

func (n *node) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n *node) write(b *strings.Builder) {
	switch n.kind {
	case kTerm:
		if n.field != FieldText {
			b.WriteString(n.field.String() + ":")
		}
		b.WriteString(n.toks[0])
		if n.prefix {
			b.WriteByte('*')
		}
	case kPhrase:
		if n.field != FieldText {
			b.WriteString(n.field.String() + ":")
		}
		b.WriteString(`"` + strings.Join(n.toks, " ") + `"`)
	case kAnd, kOr:
		b.WriteByte('(')
		for i, k := range n.kids {
			if i > 0 {
				if n.kind == kOr {
					b.WriteString(" OR ")
				} else {
					b.WriteByte(' ')
				}
			}
			k.write(b)
		}
		b.WriteByte(')')
	case kNot:
		b.WriteByte('-')
		n.kids[0].write(b)
	case kPlace:
		b.WriteString("@place:" + n.toks[0])
	case kRemote:
		fmt.Fprintf(b, "@remote:%v", n.want)
	case kSource:
		b.WriteString("@source:" + n.toks[0])
	case kEmp:
		b.WriteString("@type:" + strings.Join(n.toks, ","))
	}
}

// ParseQuery parses the free-text query language described in the package
// documentation. An empty query matches every job.
func ParseQuery(q string) (*Query, error) {
	if len(q) > MaxQueryLen {
		return nil, &ParseError{Pos: utf8.RuneCountInString(q[:MaxQueryLen]), Msg: fmt.Sprintf("query longer than %d bytes", MaxQueryLen)}
	}
	if !utf8.ValidString(q) {
		q = strings.ToValidUTF8(q, " ")
	}
	p := &parser{src: []rune(q)}
	if err := p.lex(); err != nil {
		return nil, err
	}
	root, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		t := p.toks[p.i]
		if t.kind == tRParen {
			return nil, &ParseError{Pos: t.pos, Msg: "unexpected ) without a matching ("}
		}
		return nil, &ParseError{Pos: t.pos, Msg: "unexpected " + t.text}
	}
	return &Query{root: simplify(root)}, nil
}

type tokKind uint8

const (
	tWord tokKind = iota
	tPhrase
	tField
	tLParen
	tRParen
	tOr
	tAnd
	tNot
	tMinus
)

type qtok struct {
	kind tokKind
	pos  int
	text string
}

type parser struct {
	src   []rune
	toks  []qtok
	i     int
	terms int
}

func isSpace(r rune) bool { return unicode.IsSpace(r) }

// lex splits the query into tokens.
func (p *parser) lex() error {
	s := p.src
	for i := 0; i < len(s); {
		r := s[i]
		switch {
		case isSpace(r):
			i++
		case r == '(':
			p.toks = append(p.toks, qtok{tLParen, i, "("})
			i++
		case r == ')':
			p.toks = append(p.toks, qtok{tRParen, i, ")"})
			i++
		case r == '|':
			j := i
			for j < len(s) && s[j] == '|' {
				j++
			}
			p.toks = append(p.toks, qtok{tOr, i, "OR"})
			i = j
		case r == '"' || r == '“' || r == '”' || r == '«' || r == '»' || r == '„':
			j := i + 1
			for j < len(s) && !isQuote(s[j]) {
				j++
			}
			if j == len(s) {
				return &ParseError{Pos: i, Msg: "unclosed quote"}
			}
			p.toks = append(p.toks, qtok{tPhrase, i, string(s[i+1 : j])})
			i = j + 1
		case (r == '-' || r == '!') && i+1 < len(s) && !isSpace(s[i+1]) && s[i+1] != ')':
			p.toks = append(p.toks, qtok{tMinus, i, string(r)})
			i++
		default:
			j := i
			for j < len(s) && !isSpace(s[j]) && s[j] != '(' && s[j] != ')' && !isQuote(s[j]) && s[j] != ':' {
				j++
			}
			word := string(s[i:j])
			if j < len(s) && s[j] == ':' {
				name := strings.ToLower(word)
				if _, ok := fieldNames[name]; ok {
					p.toks = append(p.toks, qtok{tField, i, name})
					i = j + 1
					continue
				}
				if isLetters(word) && j+1 < len(s) && !isSpace(s[j+1]) {
					return &ParseError{Pos: i, Msg: fmt.Sprintf("unknown field %q (use title:, company:, description: or location:)", word)}
				}
				// Not a field: the colon is part of the word ("1C:Enterprise", "Java:").
				for j < len(s) && !isSpace(s[j]) && s[j] != '(' && s[j] != ')' && !isQuote(s[j]) {
					j++
				}
				word = string(s[i:j])
			}
			switch word {
			case "OR":
				p.toks = append(p.toks, qtok{tOr, i, "OR"})
			case "AND", "&&":
				p.toks = append(p.toks, qtok{tAnd, i, "AND"})
			case "NOT":
				p.toks = append(p.toks, qtok{tNot, i, "NOT"})
			default:
				p.toks = append(p.toks, qtok{tWord, i, word})
			}
			i = j
		}
	}
	return nil
}

func isQuote(r rune) bool {
	return r == '"' || r == '“' || r == '”' || r == '«' || r == '»' || r == '„'
}

func isLetters(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

func (p *parser) peek() (qtok, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return qtok{}, false
}

// parseOr: and { OR and }
func (p *parser) parseOr(depth int) (*node, error) {
	var kids []*node
	for {
		if t, ok := p.peek(); ok && t.kind == tOr {
			return nil, &ParseError{Pos: t.pos, Msg: "OR needs a term before it"}
		}
		n, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		if n != nil {
			kids = append(kids, n)
		}
		t, ok := p.peek()
		if !ok || t.kind != tOr {
			break
		}
		p.i++
		if nt, ok := p.peek(); !ok || nt.kind == tRParen || nt.kind == tOr {
			return nil, &ParseError{Pos: t.pos, Msg: "OR needs a term after it"}
		}
		if n == nil {
			return nil, &ParseError{Pos: t.pos, Msg: "OR needs a term before it"}
		}
	}
	switch len(kids) {
	case 0:
		return nil, nil
	case 1:
		return kids[0], nil
	}
	return &node{kind: kOr, kids: kids}, nil
}

// parseAnd: unary { [AND] unary }
func (p *parser) parseAnd(depth int) (*node, error) {
	var kids []*node
	for {
		t, ok := p.peek()
		if !ok || t.kind == tOr || t.kind == tRParen {
			break
		}
		if t.kind == tAnd {
			p.i++
			if nt, ok := p.peek(); !ok || nt.kind == tOr || nt.kind == tRParen || len(kids) == 0 {
				return nil, &ParseError{Pos: t.pos, Msg: "AND needs a term on both sides"}
			}
			continue
		}
		n, err := p.parseUnary(depth, FieldText)
		if err != nil {
			return nil, err
		}
		if n != nil {
			kids = append(kids, n)
		}
	}
	switch len(kids) {
	case 0:
		return nil, nil
	case 1:
		return kids[0], nil
	}
	return &node{kind: kAnd, kids: kids}, nil
}

func (p *parser) parseUnary(depth int, field Field) (*node, error) {
	t, _ := p.peek()
	if t.kind == tMinus || t.kind == tNot {
		p.i++
		nt, ok := p.peek()
		if !ok || nt.kind == tOr || nt.kind == tRParen || nt.kind == tAnd {
			return nil, &ParseError{Pos: t.pos, Msg: t.text + " needs a term after it"}
		}
		n, err := p.parseUnary(depth, field)
		if err != nil || n == nil {
			return nil, err
		}
		if n.kind == kNot {
			return n.kids[0], nil
		}
		return &node{kind: kNot, kids: []*node{n}}, nil
	}
	return p.parsePrimary(depth, field)
}

func (p *parser) parsePrimary(depth int, field Field) (*node, error) {
	t, _ := p.peek()
	p.i++
	switch t.kind {
	case tField:
		f := fieldNames[t.text]
		nt, ok := p.peek()
		if !ok || nt.kind == tOr || nt.kind == tRParen || nt.kind == tAnd || nt.kind == tField {
			return nil, &ParseError{Pos: t.pos, Msg: t.text + ": needs a word, phrase or group right after it"}
		}
		return p.parseUnary(depth, f)
	case tLParen:
		if depth >= MaxQueryDepth {
			return nil, &ParseError{Pos: t.pos, Msg: fmt.Sprintf("parentheses nested deeper than %d", MaxQueryDepth)}
		}
		// Parse the group, then apply the field restriction to its leaves.
		n, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		ct, ok := p.peek()
		if !ok || ct.kind != tRParen {
			return nil, &ParseError{Pos: t.pos, Msg: "unclosed ( needs a matching )"}
		}
		p.i++
		if n == nil {
			return nil, &ParseError{Pos: t.pos, Msg: "empty parentheses"}
		}
		if field != FieldText {
			restrict(n, field)
		}
		return n, nil
	case tPhrase:
		toks := textfold.Tokens(t.text)
		if len(toks) == 0 {
			return nil, &ParseError{Pos: t.pos, Msg: "empty phrase"}
		}
		if err := p.count(t); err != nil {
			return nil, err
		}
		if len(toks) == 1 {
			return &node{kind: kTerm, field: field, toks: toks}, nil
		}
		return &node{kind: kPhrase, field: field, toks: toks}, nil
	case tWord:
		w := t.text
		prefix := false
		if strings.HasSuffix(w, "*") {
			w = strings.TrimRight(w, "*")
			prefix = true
		}
		toks := textfold.Tokens(w)
		if len(toks) == 0 {
			if prefix {
				return nil, &ParseError{Pos: t.pos, Msg: "* must follow a word"}
			}
			return nil, nil // punctuation only: nothing to look for
		}
		if err := p.count(t); err != nil {
			return nil, err
		}
		if prefix {
			if len(toks) > 1 {
				return nil, &ParseError{Pos: t.pos, Msg: "* ends one word, not " + strings.Join(toks, " ")}
			}
			if utf8.RuneCountInString(toks[0]) < minPrefixLen {
				return nil, &ParseError{Pos: t.pos, Msg: fmt.Sprintf("a prefix before * needs at least %d letters", minPrefixLen)}
			}
		}
		if len(toks) == 1 {
			return &node{kind: kTerm, field: field, toks: toks, prefix: prefix}, nil
		}
		return &node{kind: kPhrase, field: field, toks: toks}, nil
	case tRParen:
		return nil, &ParseError{Pos: t.pos, Msg: "unexpected ) without a matching ("}
	}
	return nil, &ParseError{Pos: t.pos, Msg: "unexpected " + t.text}
}

func (p *parser) count(t qtok) error {
	p.terms++
	if p.terms > MaxQueryTerms {
		return &ParseError{Pos: t.pos, Msg: fmt.Sprintf("more than %d words", MaxQueryTerms)}
	}
	return nil
}

// restrict sets the field of every leaf of n.
func restrict(n *node, f Field) {
	switch n.kind {
	case kTerm, kPhrase:
		n.field = f
	default:
		for _, k := range n.kids {
			restrict(k, f)
		}
	}
}

// simplify flattens nested ANDs and ORs.
func simplify(n *node) *node {
	if n == nil {
		return nil
	}
	for i, k := range n.kids {
		n.kids[i] = simplify(k)
	}
	if n.kind == kAnd || n.kind == kOr {
		var kids []*node
		for _, k := range n.kids {
			if k.kind == n.kind {
				kids = append(kids, k.kids...)
			} else {
				kids = append(kids, k)
			}
		}
		n.kids = kids
	}
	return n
}
