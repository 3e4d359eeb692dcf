package matcher

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/birjob/birjob/model"
)

// Key namespaces besides the field bit sets of term keys.
const (
	nsPlace  uint8 = 0x10
	nsSource uint8 = 0x11
	nsPrefix uint8 = 0x80 // or-ed with a field set: a token prefix
	noKey          = ^uint32(0)
	// maxClauses bounds how many clauses one criteria may be indexed under
	// before it goes to the always-check list instead.
	maxClauses = 256
	// maxCross bounds the cross product of two AND children's clauses.
	maxCross = 16
	// maxPrefixRunes is the longest prefix (before *) the index keys.
	maxPrefixRunes = 24
)

// key is an indexable fact about a job: a token in a field set, a token
// prefix, a place, a source.
type key struct {
	ns uint8
	s  string
}

// member is one alert of an entry.
type member struct {
	id     int64
	owner  Owner
	salary float64 // minimum in AZN per month, 0 for none
}

// entry is one distinct criteria tree (salary aside) with every alert that
// has it; alerts saved with the same criteria are evaluated once.
type entry struct {
	// Hot fields first: a candidate's check touches these only.
	multi   bool // filed under several postings: Match must dedupe it
	members []member
	inl     [1]member // members' first backing array, in the entry itself
	prog    program

	root   *node // kept only when the program is too deep to run
	canon  string
	raws   []string  // rawKeys that lead to this entry
	posts  []postRef // the postings this entry sits in
	always int       // position in Index.always, or -1
}

// prim holds the entries indexed under one key: alone, or together with a
// second key that must also be present.
type prim struct {
	single []posting
	pairs  map[uint32][]posting
}

// posting is an entry in a posting list, with a copy of its program when
// short: a candidate is checked by reading the list in order, and the
// entry itself (a cache miss at a million criteria) is touched only when
// it matches.
type posting struct {
	e     *entry
	code  [codeInline]uint32
	n     uint8
	flags uint8
	nm    uint8                 // members copied into mem, when pfOne
	mem   [inlineMembers]member // the entry's members, when few
}

// inlineMembers is how many members a posting carries itself.
const inlineMembers = 2

const (
	pfMulti  = 1 << iota // the entry has other postings: dedupe
	pfInline             // code holds the whole program
	pfOne                // the entry has at most inlineMembers members, copied in mem
)

// postRef locates one of an entry's postings: list (k1, k2), position i.
type postRef struct {
	k1, k2 uint32
	i      int
}

func (ix *Index) list(r postRef) []posting {
	if r.k2 == noKey {
		return ix.prims[r.k1].single
	}
	return ix.prims[r.k1].pairs[r.k2]
}

func (ix *Index) setList(r postRef, l []posting) {
	p := ix.prims[r.k1]
	switch {
	case r.k2 == noKey:
		p.single = l
	case len(l) == 0:
		delete(p.pairs, r.k2)
	default:
		p.pairs[r.k2] = l
	}
}

// refresh copies e's members into its postings when they are few, so
// that matching it needs no look at the entry.
func (ix *Index) refresh(e *entry) {
	for _, r := range e.posts {
		p := &ix.list(r)[r.i]
		p.mem = [inlineMembers]member{}
		if len(e.members) <= inlineMembers {
			p.flags |= pfOne
			p.nm = uint8(copy(p.mem[:], e.members))
		} else {
			p.flags &^= pfOne
			p.nm = 0
		}
	}
}

type memberLoc struct {
	e *entry
	i int
}

// Index finds the criteria that match a job without evaluating all of them:
// see "Index" in the package documentation. It is safe for concurrent use:
// any number of Match calls run in parallel with one writer at a time.
type Index struct {
	mu      sync.RWMutex
	byID    map[int64]memberLoc
	entries map[string]*entry
	raw     map[string]*entry // by rawKey
	dict    map[key]uint32
	use     []int32 // postings naming each key, for the cost estimate
	keys    []key   // by key id
	prims   []*prim // by key id
	always  []*entry
	// prefixLens counts indexed prefix keys by length in runes.
	prefixLens [maxPrefixRunes + 1]int
	// tokens numbers every token of an indexed word or phrase.
	tokens  map[string]uint32
	phrases map[string]uint32 // field and words of each indexed phrase → id
	// phraseNodes holds a node of each phrase id, to check it on a job.
	phraseNodes []*node
	scratch     sync.Pool // *scratch
}

// scratch is the per-Match working memory, pooled.
type scratch struct {
	doc  doc
	set  map[uint32]struct{}
	tm   []Field // by token id: the fields of the job the token is in
	tids []uint32
	pc   []uint8 // by phrase id: 0 not checked yet, 1 in the job, 2 not
	seen map[*entry]struct{}
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{
		byID:    map[int64]memberLoc{},
		entries: map[string]*entry{},
		raw:     map[string]*entry{},
		dict:    map[key]uint32{},
		tokens:  map[string]uint32{},
		phrases: map[string]uint32{},
	}
}

var _ Matcher = (*Index)(nil)

// Grow makes room for n criteria in an empty index, so that loading them
// does not rehash its maps again and again; on a non-empty index it does
// nothing.
func (ix *Index) Grow(n int) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if len(ix.byID) > 0 || n <= 0 {
		return
	}
	ix.byID = make(map[int64]memberLoc, n)
	ix.raw = make(map[string]*entry, n/2)
	ix.entries = make(map[string]*entry, n/2)
}

// Len returns the number of criteria held.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.byID)
}

// IndexStats describes the shape of an index.
type IndexStats struct {
	Criteria int // alerts held
	Entries  int // distinct criteria trees
	Keys     int // distinct index keys
	Always   int // entries evaluated for every job
}

// Stats returns the shape of the index.
func (ix *Index) Stats() IndexStats {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return IndexStats{Criteria: len(ix.byID), Entries: len(ix.entries), Keys: len(ix.dict), Always: len(ix.always)}
}

// Add adds criteria id of owner, replacing what id had; invalid criteria
// are refused and leave the index unchanged.
func (ix *Index) Add(id int64, owner Owner, c model.Criteria) error {
	rk := rawKey(&c)
	ix.mu.Lock()
	if e := ix.raw[rk]; e != nil {
		// Criteria written exactly like an indexed one: no need to compile.
		defer ix.mu.Unlock()
		return ix.addRawLocked(id, owner, &c, e)
	}
	ix.mu.Unlock()

	cc, err := compile(c)
	if err != nil {
		return fmt.Errorf("criteria %d: %w", id, err)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.addCompiledLocked(id, owner, rk, cc)
	return nil
}

func (ix *Index) addRawLocked(id int64, owner Owner, c *model.Criteria, e *entry) error {
	sal, err := compileSalary(c.SalaryMin)
	if err != nil {
		return fmt.Errorf("criteria %d: %w", id, err)
	}
	ix.putLocked(id, member{id, owner, sal}, e)
	return nil
}

func (ix *Index) addCompiledLocked(id int64, owner Owner, rk string, cc *compiled) *entry {
	if e := ix.raw[rk]; e != nil {
		ix.putLocked(id, member{id, owner, cc.salary}, e)
		return e
	}
	canon := cc.canon
	if canon == "" && cc.root != nil {
		canon = cc.root.String()
	}
	e := ix.entries[canon]
	if e == nil {
		e = &entry{root: cc.root, canon: canon, always: -1}
		e.members = e.inl[:0]
		ix.entries[canon] = e
		ix.numberTokens(e.root)
		e.prog = compileProgram(e.root)
		ix.indexLocked(e)
		if !e.prog.deep {
			// The program (and its slow nodes) is all matching needs; the
			// tree would only cost memory and garbage-collector work.
			e.root = nil
		}
	}
	ix.raw[rk] = e
	e.raws = append(e.raws, rk)
	ix.putLocked(id, member{id, owner, cc.salary}, e)
	return e
}

// Item is one criteria for AddBatch.
type Item struct {
	ID       int64
	Owner    Owner
	Criteria model.Criteria
}

// AddBatch adds many criteria, like Add for each; it is how a node loads
// its alerts at start. Criteria not yet in the index are compiled by
// background goroutines (GOMAXPROCS-1 of them, at least one) in chunks,
// while this goroutine files the chunks already compiled under the write
// lock: on two cores, compiling then costs no wall time. Invalid criteria
// are left out and reported to onErr (which may be nil), never stopping
// the others.
//
// It runs in three steps: plan (which raw keys are new, under the read
// lock), compile (in the background), file (in order, a segment of items at
// a time under the write lock, each segment once the chunk it needs is
// compiled, so that Match calls get in while a chunk compiles).
func (ix *Index) AddBatch(items []Item, onErr func(Item, error)) {
	p := ix.planAdd(items)
	bc := compileBatch(items, p.todo)
	made := make([]*entry, len(p.todo)) // the entry each compiled key made
	lo := 0
	for c := 0; c <= len(bc.ready); c++ {
		// Items before the first key of chunk c need only earlier chunks:
		// a repeated key comes after its first.
		hi := len(items)
		if c < len(bc.ready) {
			hi = p.todo[c*batchChunk]
		}
		if c > 0 {
			<-bc.ready[c-1]
		}
		if lo < hi {
			ix.fileBatch(items, lo, hi, &p, bc, made, onErr)
		}
		lo = hi
	}
}

// batchChunk is how many criteria an AddBatch compile goroutine takes at a
// time.
const batchChunk = 512

// addPlan is AddBatch's first step: what each item needs.
type addPlan struct {
	rks []string // items' raw keys
	// known[i] is the entry items[i]'s raw key led to when the batch began;
	// an entry is alive while it has members, and then ix.raw still leads
	// to it, so the filing need not look the key up again.
	known []*entry
	// first[i] is the position in todo of the first item with items[i]'s
	// raw key, when that key was not in the index: it is compiled once.
	// -1 for a known key.
	first []int32
	todo  []int // the items to compile, in order
}

// planAdd reads, under the read lock, which of items' raw keys the index
// already holds.
func (ix *Index) planAdd(items []Item) addPlan {
	p := addPlan{
		rks:   make([]string, len(items)),
		known: make([]*entry, len(items)),
		first: make([]int32, len(items)),
	}
	seen := map[string]int32{}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for i := range items {
		p.rks[i] = rawKey(&items[i].Criteria)
		p.first[i] = -1
		if p.known[i] = ix.raw[p.rks[i]]; p.known[i] != nil {
			continue
		}
		if t, ok := seen[p.rks[i]]; ok {
			p.first[i] = t
			continue
		}
		p.first[i] = int32(len(p.todo))
		seen[p.rks[i]] = p.first[i]
		p.todo = append(p.todo, i)
	}
	return p
}

// batchCompiled is AddBatch's second step: the criteria of a plan's todo,
// compiled in the background; ready[c] is closed once chunk c (todo
// positions c*batchChunk on) is.
type batchCompiled struct {
	out   []compileResult // by todo position
	ready []chan struct{}
}

type compileResult struct {
	cc  *compiled
	err error
}

// compileBatch starts compiling items[todo[t]] for every t and returns at
// once.
func compileBatch(items []Item, todo []int) *batchCompiled {
	nChunks := (len(todo) + batchChunk - 1) / batchChunk
	bc := &batchCompiled{out: make([]compileResult, len(todo)), ready: make([]chan struct{}, nChunks)}
	for c := range bc.ready {
		bc.ready[c] = make(chan struct{})
	}
	var next atomic.Int64
	workers := max(1, min(runtime.GOMAXPROCS(0)-1, nChunks))
	for range workers {
		go func() {
			for {
				c := int(next.Add(1) - 1)
				if c >= nChunks {
					return
				}
				for t := c * batchChunk; t < min(len(todo), (c+1)*batchChunk); t++ {
					cc, err := compile(items[todo[t]].Criteria)
					if cc != nil && cc.root != nil {
						cc.canon = cc.root.String()
					}
					bc.out[t] = compileResult{cc, err}
				}
				close(bc.ready[c])
			}
		}()
	}
	return bc
}

// fileBatch is AddBatch's third step for items[lo:hi], whose compiled
// criteria are ready: it files them in order under the write lock.
// made[t] records the entry todo[t]'s key made, for the key's repeats.
func (ix *Index) fileBatch(items []Item, lo, hi int, p *addPlan, bc *batchCompiled, made []*entry, onErr func(Item, error)) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for i := lo; i < hi; i++ {
		if err := ix.fileItemLocked(items, i, p, bc, made); err != nil {
			ix.removeLocked(items[i].ID)
			if onErr != nil {
				onErr(items[i], err)
			}
		}
	}
}

// fileItemLocked files items[i]: under the entry its raw key leads to, or
// as a new entry from its compiled criteria.
func (ix *Index) fileItemLocked(items []Item, i int, p *addPlan, bc *batchCompiled, made []*entry) error {
	it := &items[i]
	rk := p.rks[i]
	t := p.first[i]
	e := p.known[i]
	if e == nil && t >= 0 && p.todo[t] != i {
		e = made[t] // a repeat, within the batch, of a key compiled for it
	}
	if e == nil || len(e.members) == 0 {
		e = ix.raw[rk] // the key's entry went, or came from another writer
	}
	if e != nil {
		return ix.addRawLocked(it.ID, it.Owner, &it.Criteria, e)
	}
	var cc *compiled
	var err error
	if t >= 0 {
		cc, err = bc.out[t].cc, bc.out[t].err
	} else {
		// In the index when the batch began, removed since.
		cc, err = compile(it.Criteria)
	}
	var sal float64
	if err == nil {
		sal, err = compileSalary(it.Criteria.SalaryMin)
	}
	if err != nil {
		return fmt.Errorf("criteria %d: %w", it.ID, err)
	}
	c := *cc
	c.salary = sal
	e = ix.addCompiledLocked(it.ID, it.Owner, rk, &c)
	if t >= 0 {
		made[t] = e
	}
	return nil
}

// putLocked makes m (criteria id) a member of e, moving it from the entry
// it was in.
func (ix *Index) putLocked(id int64, m member, e *entry) {
	if loc, ok := ix.byID[id]; ok {
		if loc.e == e {
			e.members[loc.i] = m
			if len(e.members) <= inlineMembers {
				ix.refresh(e)
			}
			return
		}
		ix.removeLocked(id) // from another entry: e stays filed
	}
	e.members = append(e.members, m)
	ix.byID[id] = memberLoc{e, len(e.members) - 1}
	if len(e.members) <= inlineMembers+1 {
		ix.refresh(e)
	}
}

// Update is Add: it replaces criteria id.
func (ix *Index) Update(id int64, owner Owner, c model.Criteria) error { return ix.Add(id, owner, c) }

// Remove removes criteria id, if present.
func (ix *Index) Remove(id int64) {
	ix.mu.Lock()
	ix.removeLocked(id)
	ix.mu.Unlock()
}

func (ix *Index) removeLocked(id int64) {
	loc, ok := ix.byID[id]
	if !ok {
		return
	}
	delete(ix.byID, id)
	e := loc.e
	last := len(e.members) - 1
	if loc.i != last {
		e.members[loc.i] = e.members[last]
		ix.byID[e.members[loc.i].id] = memberLoc{e, loc.i}
	}
	e.members[last] = member{}
	e.members = e.members[:last]
	if len(e.members) > 0 && len(e.members) <= inlineMembers {
		ix.refresh(e)
	}
	if len(e.members) > 0 {
		return
	}
	delete(ix.entries, e.canon)
	for _, rk := range e.raws {
		delete(ix.raw, rk)
	}
	if e.always >= 0 {
		lastE := ix.always[len(ix.always)-1]
		ix.always[e.always] = lastE
		lastE.always = e.always
		ix.always = ix.always[:len(ix.always)-1]
		e.always = -1
	}
	for _, r := range e.posts {
		l := ix.list(r)
		last := len(l) - 1
		if r.i != last {
			// Move the last posting into the hole and tell its entry.
			l[r.i] = l[last]
			moved := l[r.i].e
			for j := range moved.posts {
				if moved.posts[j].k1 == r.k1 && moved.posts[j].k2 == r.k2 {
					moved.posts[j].i = r.i
					break
				}
			}
		}
		l[last] = posting{}
		ix.setList(r, l[:last])
		if r.k2 != noKey {
			ix.unuse(r.k2)
		}
		ix.unuse(r.k1)
		if pr := ix.prims[r.k1]; len(pr.single) == 0 && len(pr.pairs) == 0 {
			ix.prims[r.k1] = nil
		}
	}
	e.posts = nil
}

func (ix *Index) unuse(id uint32) {
	ix.use[id]--
	if k := ix.keys[id]; k.ns&nsPrefix != 0 && ix.use[id] == 0 {
		ix.prefixLens[min(utf8.RuneCountInString(k.s), maxPrefixRunes)]--
	}
}

func (ix *Index) keyID(k key) uint32 {
	if id, ok := ix.dict[k]; ok {
		return id
	}
	id := uint32(len(ix.use))
	ix.dict[k] = id
	ix.use = append(ix.use, 0)
	ix.keys = append(ix.keys, k)
	ix.prims = append(ix.prims, nil)
	return id
}

func (ix *Index) useKey(id uint32, k key) {
	if k.ns&nsPrefix != 0 && ix.use[id] == 0 {
		ix.prefixLens[min(utf8.RuneCountInString(k.s), maxPrefixRunes)]++
	}
	ix.use[id]++
}

// numberTokens sets the token ids of n's words and phrases.
func (ix *Index) numberTokens(n *node) {
	if n == nil {
		return
	}
	if n.kind == kPhrase {
		pk := string(rune('0'+n.field)) + strings.Join(n.toks, " ")
		id, ok := ix.phrases[pk]
		if !ok {
			id = uint32(len(ix.phrases))
			ix.phrases[pk] = id
			ix.phraseNodes = append(ix.phraseNodes, n)
		}
		n.pid = id + 1
	}
	if (n.kind == kTerm && !n.prefix) || n.kind == kPhrase {
		n.tids = make([]uint32, len(n.toks))
		for i, t := range n.toks {
			id, ok := ix.tokens[t]
			if !ok {
				id = uint32(len(ix.tokens))
				ix.tokens[t] = id
			}
			n.tids[i] = id
		}
	}
	for _, k := range n.kids {
		ix.numberTokens(k)
	}
}

// evalFast is node.eval with words looked up by token id in tm.
func (n *node) evalFast(d *doc, tm []Field) bool {
	switch n.kind {
	case kTerm:
		if n.prefix {
			return n.eval(d)
		}
		return tm[n.tids[0]]&n.field != 0
	case kPhrase:
		for _, t := range n.tids {
			if tm[t]&n.field == 0 {
				return false
			}
		}
		return n.eval(d)
	case kAnd:
		for _, k := range n.kids {
			if !k.evalFast(d, tm) {
				return false
			}
		}
		return true
	case kOr:
		for _, k := range n.kids {
			if k.evalFast(d, tm) {
				return true
			}
		}
		return false
	case kNot:
		return !n.kids[0].evalFast(d, tm)
	}
	return n.eval(d)
}

// indexLocked files a new entry under the keys its criteria require.
func (ix *Index) indexLocked(e *entry) {
	clauses, ok := ix.extract(e.root)
	if !ok || len(clauses) == 0 || len(clauses) > maxClauses {
		e.always = len(ix.always)
		ix.always = append(ix.always, e)
		return
	}
	e.multi = len(clauses) > 1
	post := posting{e: e}
	if e.multi {
		post.flags |= pfMulti
	}
	if !e.prog.deep && !e.prog.empty && e.prog.long == nil {
		post.code, post.n = e.prog.code, e.prog.n
		post.flags |= pfInline
	}
	for _, cl := range clauses {
		// The two keys that the fewest others use go first.
		if len(cl) > 1 {
			best, second := 0, 1
			cb, cs := ix.cost(cl[0]), ix.cost(cl[1])
			if cs < cb {
				best, second, cb, cs = 1, 0, cs, cb
			}
			for i := 2; i < len(cl); i++ {
				switch c := ix.cost(cl[i]); {
				case c < cb:
					second, cs = best, cb
					best, cb = i, c
				case c < cs:
					second, cs = i, c
				}
			}
			cl[0], cl[1] = cl[best], cl[second]
		}
		k1 := ix.keyID(cl[0])
		if ix.prims[k1] == nil {
			ix.prims[k1] = &prim{}
		}
		p := ix.prims[k1]
		k2 := noKey
		if len(cl) > 1 {
			k2 = ix.keyID(cl[1])
		}
		if slices.ContainsFunc(e.posts, func(r postRef) bool { return r.k1 == k1 && r.k2 == k2 }) {
			continue // "a OR a": one posting per list and entry
		}
		ix.useKey(k1, cl[0])
		r := postRef{k1: k1, k2: k2}
		if k2 != noKey {
			ix.useKey(k2, cl[1])
			if p.pairs == nil {
				p.pairs = map[uint32][]posting{}
			}
			l := p.pairs[k2]
			r.i = len(l)
			p.pairs[k2] = append(l, post)
		} else {
			r.i = len(p.single)
			p.single = append(p.single, post)
		}
		e.posts = append(e.posts, r)
	}
	if len(e.posts) == 1 {
		// Duplicate clauses collapsed into one posting: no dedupe needed.
		e.multi = false
		ix.list(e.posts[0])[e.posts[0].i].flags &^= pfMulti
	}
}

// prior is how common a key's namespace is in jobs, relative to a title
// word: a place such as Baku or a source is on a large share of all jobs.
func prior(ns uint8) float64 {
	switch {
	case ns&nsPrefix != 0:
		return 4
	case ns == uint8(FieldTitle), ns == uint8(FieldCompany):
		return 1
	case ns == uint8(FieldText):
		return 2
	case ns == uint8(FieldDescription):
		return 3
	case ns == uint8(FieldLocation):
		return 6
	case ns == nsPlace:
		return 10
	case ns == nsSource:
		return 40
	}
	return 10
}

// cost estimates how many jobs carry k, scaled: the namespace's prior
// times the number of postings that already name it (popular words in
// alerts are popular in jobs too).
func (ix *Index) cost(k key) float64 {
	n := 0
	if id, ok := ix.dict[k]; ok {
		n = int(ix.use[id])
	}
	p := prior(k.ns)
	if k.ns == nsPlace {
		// Most postings are in the capital, a country names all its
		// cities, and remote jobs are common: far less selective than a
		// provincial town.
		switch k.s {
		case "baku", "moscow", "istanbul", "tbilisi":
			p = 30
		case "azerbaijan", "russia", "turkey", "georgia", "uk", "uae", "germany":
			p = 40
		case placeRemote:
			p = 15
		}
	}
	return p * float64(1+n)
}

func (ix *Index) clausesCost(cls [][]key) float64 {
	var sum float64
	for _, cl := range cls {
		best := -1.0
		for _, k := range cl {
			if c := ix.cost(k); best < 0 || c < best {
				best = c
			}
		}
		if len(cl) > 1 {
			best /= 8 // two keys are far more selective than one
		}
		sum += best
	}
	return sum
}

// extract returns clauses such that every job matching n satisfies at
// least one clause (a set of keys the job must all carry); ok is false when
// n can match a job that carries no particular key.
func (ix *Index) extract(n *node) (clauses [][]key, ok bool) {
	if n == nil {
		return nil, false
	}
	switch n.kind {
	case kTerm:
		if n.prefix {
			if utf8.RuneCountInString(n.toks[0]) > maxPrefixRunes {
				return nil, false
			}
			return [][]key{{{nsPrefix | uint8(n.field), n.toks[0]}}}, true
		}
		return [][]key{{{uint8(n.field), n.toks[0]}}}, true
	case kPhrase:
		// One word stands for the phrase: its words travel together
		// ("node js"), so a pair of them would select no better than one.
		best := key{uint8(n.field), n.toks[0]}
		for _, t := range n.toks[1:] {
			if k := (key{uint8(n.field), t}); ix.cost(k) < ix.cost(best) {
				best = k
			}
		}
		return [][]key{{best}}, true
	case kPlace:
		return [][]key{{{nsPlace, n.toks[0]}}}, true
	case kRemote:
		if n.want {
			return [][]key{{{nsPlace, placeRemote}}}, true
		}
		return nil, false
	case kSource:
		return [][]key{{{nsSource, n.toks[0]}}}, true
	case kOr:
		var all [][]key
		for _, k := range n.kids {
			cls, ok := ix.extract(k)
			if !ok {
				return nil, false
			}
			all = append(all, cls...)
			if len(all) > maxClauses {
				return nil, false
			}
		}
		return all, true
	case kAnd:
		return ix.extractAnd(n)
	}
	// kNot, kEmp: satisfied by jobs without any particular key.
	return nil, false
}

// extractAnd is extract for an AND: the cheapest child's clauses, crossed
// with the next cheapest's when the product stays small.
func (ix *Index) extractAnd(n *node) (clauses [][]key, ok bool) {
	type cand struct {
		cls  [][]key
		cost float64
	}
	var cands []cand
	for _, k := range n.kids {
		if cls, ok := ix.extract(k); ok {
			cands = append(cands, cand{cls, ix.clausesCost(cls)})
		}
	}
	if len(cands) == 0 {
		return nil, false
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		switch {
		case a.cost < b.cost:
			return -1
		case a.cost > b.cost:
			return 1
		}
		return 0
	})
	best := cands[0].cls
	if len(cands) > 1 && len(best)*len(cands[1].cls) <= maxCross {
		// Both children must hold: a job satisfies some clause of each,
		// so it satisfies some union of one from each.
		var cross [][]key
		for _, a := range best {
			for _, b := range cands[1].cls {
				cl := slices.Clone(a)
				for _, k := range b {
					if !slices.Contains(cl, k) {
						cl = append(cl, k)
					}
				}
				cross = append(cross, cl)
			}
		}
		return cross, true
	}
	return best, true
}

// jobKeys returns the ids of the index keys the job carries, in a set.
func (ix *Index) jobKeys(d *doc, set map[uint32]struct{}) map[uint32]struct{} {
	if set == nil {
		set = make(map[uint32]struct{}, 64)
	}
	add := func(k key) {
		if id, ok := ix.dict[k]; ok {
			set[id] = struct{}{}
		}
	}
	prefixes := false
	for _, n := range ix.prefixLens {
		if n > 0 {
			prefixes = true
			break
		}
	}
	// Words, and the stems that inflected words stand for (see doc.tokens).
	for t, fs := range d.tokens {
		for i := range 4 {
			if fs&(1<<i) != 0 {
				add(key{uint8(1) << i, t})
			}
		}
		if fs&FieldText != 0 {
			add(key{uint8(FieldText), t})
		}
	}
	for i, toks := range d.fields {
		f := uint8(1) << i
		for _, t := range toks {
			if prefixes {
				n := 0
				for j := range t {
					if n > 0 && n <= maxPrefixRunes && ix.prefixLens[n] > 0 {
						add(key{nsPrefix | f, t[:j]})
						if i < 3 {
							add(key{nsPrefix | uint8(FieldText), t[:j]})
						}
					}
					n++
				}
				if n <= maxPrefixRunes && ix.prefixLens[n] > 0 {
					add(key{nsPrefix | f, t})
					if i < 3 {
						add(key{nsPrefix | uint8(FieldText), t})
					}
				}
			}
		}
	}
	for _, p := range d.places {
		add(key{nsPlace, p})
	}
	for _, src := range d.sources {
		add(key{nsSource, src})
	}
	return set
}

// Match returns every criteria that matches job, in no particular order:
// the same set as Brute.Match, found by looking only at the entries whose
// required keys the job carries, plus the always-check list.
func (ix *Index) Match(job *model.Job) []Hit {
	hits := ix.MatchAppend(nil, job)
	if len(hits) == 0 {
		return nil
	}
	return hits
}

// MatchAppend is Match appending to dst, for callers that reuse a buffer
// from job to job.
func (ix *Index) MatchAppend(dst []Hit, job *model.Job) []Hit {
	sc, _ := ix.scratch.Get().(*scratch)
	if sc == nil {
		sc = &scratch{set: map[uint32]struct{}{}, seen: map[*entry]struct{}{}}
	}
	d := prepareInto(&sc.doc, job)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	defer func() {
		for _, t := range sc.tids {
			sc.tm[t] = 0
		}
		sc.tids = sc.tids[:0]
		for _, p := range d.pids {
			sc.pc[p] = 0
		}
		d.pids = d.pids[:0]
		clear(sc.set)
		clear(sc.seen)
		ix.scratch.Put(sc)
	}()
	if len(sc.tm) < len(ix.tokens) {
		sc.tm = make([]Field, len(ix.tokens)+len(ix.tokens)/4)
	}
	if len(sc.pc) < len(ix.phrases) {
		sc.pc = make([]uint8, len(ix.phrases)+len(ix.phrases)/4)
	}
	d.pc, d.pnodes = sc.pc, ix.phraseNodes
	for t, f := range d.tokens {
		if id, ok := ix.tokens[t]; ok {
			sc.tm[id] = f
			sc.tids = append(sc.tids, id)
		}
	}
	tm := sc.tm
	set := ix.jobKeys(d, sc.set)
	hits := dst
	consider := func(p *posting) {
		e := p.e
		if p.flags&pfMulti != 0 {
			if _, ok := sc.seen[e]; ok {
				return
			}
			sc.seen[e] = struct{}{}
		}
		if p.flags&pfInline != 0 {
			if !runCode(p.code[:p.n], e, d, tm) {
				return
			}
		} else if !e.prog.run(e.root, d, tm) {
			return
		}
		if p.flags&pfOne != 0 {
			for _, m := range p.mem[:p.nm] {
				if d.salaryOK(m.salary) {
					hits = append(hits, Hit{AlertID: m.id, Owner: m.owner})
				}
			}
			return
		}
		for _, m := range e.members {
			if d.salaryOK(m.salary) {
				hits = append(hits, Hit{AlertID: m.id, Owner: m.owner})
			}
		}
	}
	for k1 := range set {
		p := ix.prims[k1]
		if p == nil {
			continue
		}
		for i := range p.single {
			consider(&p.single[i])
		}
		if len(p.pairs) == 0 {
			continue
		}
		if len(p.pairs) <= len(set) {
			for k2, ps := range p.pairs {
				if _, ok := set[k2]; ok {
					for i := range ps {
						consider(&ps[i])
					}
				}
			}
		} else {
			for k2 := range set {
				ps := p.pairs[k2]
				for i := range ps {
					consider(&ps[i])
				}
			}
		}
	}
	for _, e := range ix.always {
		consider(&posting{e: e})
	}
	return hits
}
