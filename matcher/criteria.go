package matcher

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/textfold"
)

// Limits on the list fields of criteria.
const (
	MaxListItems = 50
	MaxItemLen   = 200
)

// RatesToAZN converts one unit of a currency to Azerbaijani manat: a static
// table (approximate 2026 rates). Salaries are compared in AZN per month; a
// salary in a currency not listed here is treated as unknown.
var RatesToAZN = map[string]float64{
	"AZN": 1,
	"USD": 1.70,
	"EUR": 1.85,
	"GBP": 2.15,
	"RUB": 0.019,
	"TRY": 0.045,
	"GEL": 0.62,
	"AED": 0.46,
	"KZT": 0.0033,
	"UAH": 0.041,
}

// currencyAliases maps symbols and spellings to ISO codes.
var currencyAliases = map[string]string{
	"₼": "AZN", "MANAT": "AZN", "MAN": "AZN", "AZM": "AZN", "АЗН": "AZN", "МАНАТ": "AZN",
	"$": "USD", "US$": "USD", "DOLLAR": "USD",
	"€": "EUR", "EURO": "EUR",
	"£": "GBP",
	"₽": "RUB", "РУБ": "RUB", "RUR": "RUB",
	"₺": "TRY", "TL": "TRY",
	"₾": "GEL",
}

// PeriodsPerMonth converts an amount per period to per month: a month is
// 173.33 working hours (40 h × 52 weeks / 12), 21.67 working days and 4.33
// weeks; a year is 12 months. An empty period means per month.
var PeriodsPerMonth = map[string]float64{
	"hour":  173.33,
	"day":   21.67,
	"week":  4.333,
	"month": 1,
	"year":  1.0 / 12,
}

var periodAliases = map[string]string{
	"":        "month",
	"hourly":  "hour",
	"hr":      "hour",
	"h":       "hour",
	"daily":   "day",
	"weekly":  "week",
	"monthly": "month",
	"mo":      "month",
	"yearly":  "year",
	"annual":  "year",
	"annum":   "year",
	"yr":      "year",
}

func normCurrency(c string) (string, bool) {
	c = strings.ToUpper(strings.TrimSpace(c))
	if c == "" {
		return "AZN", true
	}
	if a, ok := currencyAliases[c]; ok {
		c = a
	}
	_, ok := RatesToAZN[c]
	return c, ok
}

func normPeriod(p string) (string, bool) {
	p = strings.ToLower(strings.TrimSpace(p))
	if a, ok := periodAliases[p]; ok {
		p = a
	}
	_, ok := PeriodsPerMonth[p]
	return p, ok
}

// MonthlyAZN converts an amount in currency per period to AZN per month; ok
// is false for an unknown currency or period.
func MonthlyAZN(amount float64, currency, period string) (float64, bool) {
	c, ok1 := normCurrency(currency)
	p, ok2 := normPeriod(period)
	if !ok1 || !ok2 || math.IsNaN(amount) || math.IsInf(amount, 0) {
		return 0, false
	}
	return amount * RatesToAZN[c] * PeriodsPerMonth[p], true
}

// jobMonthlyAZN is the most a job says it pays, in AZN per month: its
// maximum when given, else its minimum. ok is false when the job states no
// salary, or one in an unknown currency or period.
func jobMonthlyAZN(s *model.Salary) (float64, bool) {
	if s.IsZero() {
		return 0, false
	}
	amt := s.Max
	if amt <= 0 {
		amt = s.Min
	}
	if amt <= 0 {
		return 0, false
	}
	return MonthlyAZN(amt, s.Currency, s.Period)
}

var employmentTypes = map[string]string{
	"fulltime": model.EmploymentFullTime, "full": model.EmploymentFullTime, "permanent": model.EmploymentFullTime,
	"tamstat": model.EmploymentFullTime, "tamgun": model.EmploymentFullTime, "полнаязанятость": model.EmploymentFullTime,
	"parttime": model.EmploymentPartTime, "part": model.EmploymentPartTime, "yarımstat": model.EmploymentPartTime,
	"yarimstat": model.EmploymentPartTime, "yarimgun": model.EmploymentPartTime, "частичнаязанятость": model.EmploymentPartTime,
	"contract": model.EmploymentContract, "contractor": model.EmploymentContract, "freelance": model.EmploymentContract,
	"muqavile": model.EmploymentContract, "договор": model.EmploymentContract,
	"temporary": model.EmploymentTemporary, "temp": model.EmploymentTemporary, "muveqqeti": model.EmploymentTemporary,
	"временная":  model.EmploymentTemporary,
	"internship": model.EmploymentInternship, "intern": model.EmploymentInternship, "tecrube": model.EmploymentInternship,
	"стажировка": model.EmploymentInternship,
	"volunteer":  model.EmploymentVolunteer, "konullu": model.EmploymentVolunteer, "волонтер": model.EmploymentVolunteer,
	"other": model.EmploymentOther,
}

// NormEmploymentType maps spellings such as "FULL_TIME", "Full time" or
// "tam ştat" to the model's employment types; ok is false when unknown.
func NormEmploymentType(s string) (string, bool) {
	var b strings.Builder
	for _, t := range textfold.Tokens(s) {
		b.WriteString(t)
	}
	k := b.String()
	if k == "" {
		return "", false
	}
	if t, ok := employmentTypes[k]; ok {
		return t, true
	}
	return "", false
}

// compiled is criteria ready for evaluation: a boolean tree over the job
// (the query and every field filter, in one AND) and the minimum salary in
// AZN per month, 0 for none. Salary stays out of the tree so that alerts
// that differ only in salary share one tree in the index.
type compiled struct {
	root   *node // nil matches every job
	salary float64
	canon  string // root.String(), when computed ahead (AddBatch)
}

// Validate reports whether c is acceptable criteria for an alert or a feed,
// with a message a person can act on. Query errors are *ParseError
// (wrapped).
func Validate(c model.Criteria) error {
	_, err := compile(c)
	return err
}

func compile(c model.Criteria) (*compiled, error) {
	var and []*node
	q, err := ParseQuery(c.Query)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	if q.root != nil {
		and = append(and, q.root)
	}
	loc, err := locationNode(c.Location)
	if err != nil {
		return nil, err
	}
	switch {
	case c.Remote != nil && *c.Remote && loc != nil:
		and = append(and, &node{kind: kOr, kids: []*node{loc, {kind: kRemote, want: true}}})
	case c.Remote != nil && *c.Remote:
		and = append(and, &node{kind: kRemote, want: true})
	case c.Remote != nil:
		and = append(and, &node{kind: kRemote, want: false})
		if loc != nil {
			and = append(and, loc)
		}
	case loc != nil:
		and = append(and, loc)
	}
	if len(c.EmploymentTypes) > 0 {
		n, err := employmentTypesNode(c.EmploymentTypes)
		if err != nil {
			return nil, err
		}
		and = append(and, n)
	}
	if len(c.Companies) > 0 {
		n, err := companiesNode("companies", c.Companies)
		if err != nil {
			return nil, err
		}
		and = append(and, n)
	}
	if len(c.ExcludeCompanies) > 0 {
		n, err := companiesNode("excludeCompanies", c.ExcludeCompanies)
		if err != nil {
			return nil, err
		}
		and = append(and, &node{kind: kNot, kids: []*node{n}})
	}
	if len(c.Sources) > 0 {
		n, err := sourcesNode(c.Sources)
		if err != nil {
			return nil, err
		}
		and = append(and, n)
	}
	out := &compiled{}
	if out.salary, err = compileSalary(c.SalaryMin); err != nil {
		return nil, err
	}
	switch len(and) {
	case 0:
	case 1:
		out.root = and[0]
	default:
		out.root = simplify(&node{kind: kAnd, kids: and})
	}
	return out, nil
}

// employmentTypesNode is the node of an employmentTypes list: the job's
// type must be one of them, normalised.
func employmentTypesNode(types []string) (*node, error) {
	if err := checkList("employmentTypes", types); err != nil {
		return nil, err
	}
	var ts []string
	for _, s := range types {
		t, ok := NormEmploymentType(s)
		if !ok {
			return nil, fmt.Errorf("employmentTypes: unknown type %q (use full-time, part-time, contract, temporary, internship, volunteer or other)", s)
		}
		if !slices.Contains(ts, t) {
			ts = append(ts, t)
		}
	}
	slices.Sort(ts)
	return &node{kind: kEmp, toks: ts}, nil
}

// sourcesNode is the node of a sources list: the job must have been seen
// on one of them (its primary source or any other listing).
func sourcesNode(sources []string) (*node, error) {
	if err := checkList("sources", sources); err != nil {
		return nil, err
	}
	var or []*node
	seen := map[string]bool{}
	for _, s := range sources {
		f := strings.TrimSpace(textfold.Fold(s))
		if f == "" {
			return nil, errors.New("sources: empty source name")
		}
		if !seen[f] {
			seen[f] = true
			or = append(or, &node{kind: kSource, toks: []string{f}})
		}
	}
	return orOf(or), nil
}

// compileSalary returns a minimum salary in AZN per month, 0 for none.
func compileSalary(s *model.SalaryMin) (float64, error) {
	if s == nil || s.Amount == 0 {
		return 0, nil
	}
	if s.Amount < 0 || math.IsNaN(s.Amount) || math.IsInf(s.Amount, 0) {
		return 0, errors.New("salaryMin: amount must be a positive number")
	}
	if _, ok := normCurrency(s.Currency); !ok {
		return 0, fmt.Errorf("salaryMin: unknown currency %q (use one of %s)", s.Currency, currencyList())
	}
	if _, ok := normPeriod(s.Period); !ok {
		return 0, fmt.Errorf("salaryMin: unknown period %q (use hour, day, week, month or year)", s.Period)
	}
	v, _ := MonthlyAZN(s.Amount, s.Currency, s.Period)
	return v, nil
}

// rawKey identifies criteria as written, salary aside: alerts saved with
// the same fields compile to the same entry, so the index compiles them
// once.
func rawKey(c *model.Criteria) string {
	var b strings.Builder
	b.WriteString(c.Query)
	b.WriteByte(0)
	b.WriteString(c.Location)
	b.WriteByte(0)
	if c.Remote != nil {
		if *c.Remote {
			b.WriteByte('t')
		} else {
			b.WriteByte('f')
		}
	}
	for _, l := range [][]string{c.EmploymentTypes, c.Companies, c.ExcludeCompanies, c.Sources} {
		b.WriteByte(0)
		for _, s := range l {
			b.WriteString(s)
			b.WriteByte(1)
		}
	}
	return b.String()
}

func currencyList() string {
	var cs []string
	for c := range RatesToAZN {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	return strings.Join(cs, ", ")
}

func checkList(name string, items []string) error {
	if len(items) > MaxListItems {
		return fmt.Errorf("%s: more than %d items", name, MaxListItems)
	}
	for _, s := range items {
		if len(s) > MaxItemLen {
			return fmt.Errorf("%s: item longer than %d bytes", name, MaxItemLen)
		}
	}
	return nil
}

func orOf(kids []*node) *node {
	if len(kids) == 1 {
		return kids[0]
	}
	return &node{kind: kOr, kids: kids}
}

// companiesNode matches a job whose company contains one of the names as
// a run of words ("PASHA Bank" matches "PASHA Bank OJSC").
func companiesNode(name string, cs []string) (*node, error) {
	if err := checkList(name, cs); err != nil {
		return nil, err
	}
	var or []*node
	for _, c := range cs {
		toks := textfold.Tokens(c)
		switch len(toks) {
		case 0:
			return nil, fmt.Errorf("%s: %q names no company", name, c)
		case 1:
			or = append(or, &node{kind: kTerm, field: FieldCompany, toks: toks})
		default:
			or = append(or, &node{kind: kPhrase, field: FieldCompany, toks: toks})
		}
	}
	return orOf(or), nil
}

// locationNode: a known place (any spelling) matches jobs in that place;
// several places in one location ("Baku, Sumqayıt") match any of them;
// text naming no known place must appear as words in the job's location.
func locationNode(loc string) (*node, error) {
	if strings.TrimSpace(loc) == "" {
		return nil, nil
	}
	if len(loc) > MaxItemLen || !utf8.ValidString(loc) {
		return nil, fmt.Errorf("location: longer than %d bytes or not text", MaxItemLen)
	}
	toks := textfold.Tokens(loc)
	if len(toks) == 0 {
		return nil, fmt.Errorf("location: %q names no place", loc)
	}
	found := findPlaces(toks)
	if len(found) > 0 {
		// A city together with its country ("Bakı, Azərbaycan") means the city.
		var keys []string
		for _, i := range found {
			isCountryOfOther := false
			for _, j := range found {
				if places[j].country == places[i].key {
					isCountryOfOther = true
				}
			}
			if !isCountryOfOther {
				keys = append(keys, places[i].key)
			}
		}
		slices.Sort(keys)
		var or []*node
		for _, k := range keys {
			if k == placeRemote {
				or = append(or, &node{kind: kRemote, want: true})
				continue
			}
			or = append(or, &node{kind: kPlace, toks: []string{k}})
		}
		return orOf(or), nil
	}
	if len(toks) == 1 {
		return &node{kind: kTerm, field: FieldLocation, toks: toks}, nil
	}
	return &node{kind: kPhrase, field: FieldLocation, toks: toks}, nil
}

// doc is a job prepared for evaluation: folded tokens per field, a map of
// token → fields it occurs in, place keys and normalised filters.
type doc struct {
	fields [4][]string // title, company, description, location
	// tokens maps each word of the job to the fields it is in, plus the
	// stems it may be an inflection of (see addStems); phrases check
	// positions in fields, so stems never make a phrase match.
	tokens map[string]Field
	places []string
	// placeMask has bit i set for places[i]; empBit is the job's type as a
	// bit of empTypes (0 when unknown). Both serve the index's programs.
	placeMask uint64
	empBit    uint32
	remote    bool
	// sources are the folded names of every source the job was seen on:
	// its primary source and each of its listings (one job per posting,
	// see scraper/doc.go), without repeats.
	sources []string
	emp     string // "" when unknown
	salary  float64
	hasSal  bool
	// pc caches phrase checks by phrase id for the index (nil for Brute);
	// pids lists the ids set, to reset them after.
	pc     []uint8
	pids   []uint32
	pnodes []*node // by phrase id
}

// Inflection tolerance: a query word of at least minStem letters also
// matches a job word that extends it by at most maxSuffix letters, which
// covers the case and possessive endings of Azerbaijani, Turkish and
// Russian (mühəndis → mühəndisi, mühəndislər; менеджер → менеджера,
// инженеров) and English plurals, without letting "java" match
// "javascript". Words inside quotes match exactly.
const (
	minStem   = 4
	maxSuffix = 3
)

// addStems records, for a job word, the shorter words it may be an
// inflection of.
func addStems(m map[string]Field, t string, f Field) {
	if len(t) <= minStem {
		return // fewer than minStem+1 runes
	}
	var cut [maxSuffix + 1]int // byte offsets of the last runes' starts
	n := 0
	for i := range t {
		cut[n%(maxSuffix+1)] = i
		n++
	}
	// n runes; stems of n-1 .. n-maxSuffix runes, each at least minStem.
	for k := 1; k <= maxSuffix && n-k >= minStem; k++ {
		m[t[:cut[(n-k)%(maxSuffix+1)]]] |= f
	}
}

func prepare(j *model.Job) *doc {
	return prepareInto(&doc{}, j)
}

// prepareInto fills d for j, reusing its slices and map (the index pools
// docs, so that matching a job leaves little garbage).
func prepareInto(d *doc, j *model.Job) *doc {
	tokens := d.tokens
	fields := d.fields
	pids := d.pids
	sources := d.sources
	*d = doc{}
	d.pids = pids
	d.sources = sources[:0]
	d.fields[0] = textfold.AppendTokens(fields[0][:0], j.Title)
	d.fields[1] = textfold.AppendTokens(fields[1][:0], j.Company)
	d.fields[2] = textfold.AppendTokens(fields[2][:0], j.Description)
	d.fields[3] = textfold.AppendTokens(fields[3][:0], j.Location)
	n := len(d.fields[0]) + len(d.fields[1]) + len(d.fields[2]) + len(d.fields[3])
	if tokens != nil {
		clear(tokens)
		d.tokens = tokens
	} else {
		d.tokens = make(map[string]Field, 2*n)
	}
	for i, toks := range d.fields {
		f := Field(1) << i
		for _, t := range toks {
			d.tokens[t] |= f
			addStems(d.tokens, t, f)
		}
	}
	d.places = jobPlaces(d.fields[3], j.Remote)
	d.remote = slices.Contains(d.places, placeRemote)
	for _, p := range d.places {
		d.placeMask |= 1 << placeIndex[p]
	}
	d.addSource(j.Source)
	for _, s := range j.Sources {
		d.addSource(s.Name)
	}
	if j.EmploymentType != "" {
		if t, ok := NormEmploymentType(j.EmploymentType); ok {
			d.emp = t
		} else {
			d.emp = model.EmploymentOther
		}
	}
	d.empBit = empBit(d.emp)
	d.salary, d.hasSal = jobMonthlyAZN(j.Salary)
	return d
}

// addSource adds a source name, folded, to d.sources unless it is empty
// or there already.
func (d *doc) addSource(name string) {
	if f := strings.TrimSpace(textfold.Fold(name)); f != "" && !slices.Contains(d.sources, f) {
		d.sources = append(d.sources, f)
	}
}

// salaryOK reports whether a job passes a minimum salary (AZN per month, 0
// for none): a job that states no salary does not pass a minimum.
func (d *doc) salaryOK(min float64) bool {
	return min <= 0 || d.hasSal && d.salary >= min*(1-1e-9)
}

func (c *compiled) match(d *doc) bool {
	return d.salaryOK(c.salary) && (c.root == nil || c.root.eval(d))
}

func (n *node) eval(d *doc) bool {
	switch n.kind {
	case kTerm:
		if n.prefix {
			for i := range d.fields {
				if n.field&(1<<i) == 0 {
					continue
				}
				for _, t := range d.fields[i] {
					if strings.HasPrefix(t, n.toks[0]) {
						return true
					}
				}
			}
			return false
		}
		return d.tokens[n.toks[0]]&n.field != 0
	case kPhrase:
		for _, t := range n.toks {
			if d.tokens[t]&n.field == 0 {
				return false
			}
		}
		for i := range d.fields {
			if n.field&(1<<i) != 0 && containsRun(d.fields[i], n.toks) {
				return true
			}
		}
		return false
	case kAnd:
		for _, k := range n.kids {
			if !k.eval(d) {
				return false
			}
		}
		return true
	case kOr:
		for _, k := range n.kids {
			if k.eval(d) {
				return true
			}
		}
		return false
	case kNot:
		return !n.kids[0].eval(d)
	case kPlace:
		return slices.Contains(d.places, n.toks[0])
	case kRemote:
		return d.remote == n.want
	case kSource:
		return slices.Contains(d.sources, n.toks[0])
	case kEmp:
		return d.emp == "" || slices.Contains(n.toks, d.emp)
	}
	return false
}

func containsRun(hay, run []string) bool {
	for i := 0; i+len(run) <= len(hay); i++ {
		if hay[i] == run[0] && slices.Equal(hay[i:i+len(run)], run) {
			return true
		}
	}
	return false
}
