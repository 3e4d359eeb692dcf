package matcher

import "github.com/birjob/birjob/model"

// The index evaluates candidates with a small postfix program per entry,
// kept inside the entry itself: walking a tree of pointers costs a cache
// miss per node, and at a million criteria the candidates of a job are all
// cold. Each instruction is a uint32: op in bits 0–3, a field set in bits
// 4–7, an argument in bits 8–31.
const (
	opTerm   = iota // push: token id arg is in one of the fields
	opSlow          // push: slow[arg].eval (phrases, prefixes, sources)
	opPlace         // push: the job is in place number arg
	opRemote        // push: job remote == (arg == 1)
	opEmp           // push: job type unknown or in bit set arg
	opAnd           // pop two, push both
	opOr            // pop two, push either
	opNot           // negate the top
	opTrue          // push true
	opCheck         // top = top && slow[arg].eval: a phrase after its words
	opPhrase        // top = top && phrase id arg is in the job

	codeInline = 12 // instructions stored in the entry itself
	maxStack   = 32
	maxArg     = 1<<24 - 1
)

// placeIndex numbers the places table for the job's place bit set.
var placeIndex = map[string]int{}

// empTypes numbers the employment types for bit sets.
var empTypes = []string{model.EmploymentFullTime, model.EmploymentPartTime, model.EmploymentContract,
	model.EmploymentTemporary, model.EmploymentInternship, model.EmploymentVolunteer, model.EmploymentOther}

func init() {
	for i, p := range places {
		placeIndex[p.key] = i
	}
	if len(places) > 64 {
		panic("matcher: more than 64 places; widen doc.placeMask")
	}
}

func empBit(t string) uint32 {
	for i, e := range empTypes {
		if e == t {
			return 1 << i
		}
	}
	return 0
}

// program is an entry's compiled criteria.
type program struct {
	code  [codeInline]uint32
	n     uint8
	long  []uint32 // the code, when longer than codeInline
	slow  []*node
	deep  bool // too deep for the stack: evaluate the tree instead
	empty bool // no criteria: always true
}

// compileProgram compiles n (whose words have token ids) to a program.
func compileProgram(n *node) program {
	if n == nil {
		return program{empty: true}
	}
	var b progBuilder
	b.emit(n)
	if b.maxDepth > maxStack || len(b.p.slow) > maxArg {
		return program{deep: true}
	}
	p := b.p
	if len(b.code) <= codeInline {
		p.n = uint8(copy(p.code[:], b.code))
	} else {
		p.long = b.code
	}
	return p
}

// progBuilder is compileProgram's state: the code so far, and the depth of
// the stack it will need.
type progBuilder struct {
	p               program // its slow nodes
	code            []uint32
	depth, maxDepth int
}

// push emits an instruction that pushes a value.
func (b *progBuilder) push(in uint32) {
	b.code = append(b.code, in)
	b.depth++
	b.maxDepth = max(b.maxDepth, b.depth)
}

// pop2 emits an instruction that pops two values and pushes one.
func (b *progBuilder) pop2(op uint32) {
	b.code = append(b.code, op)
	b.depth--
}

// slow emits a check of n by its tree evaluator.
func (b *progBuilder) slow(n *node) {
	b.push(opSlow | uint32(len(b.p.slow))<<8)
	b.p.slow = append(b.p.slow, n)
}

// emit emits the code of n.
func (b *progBuilder) emit(n *node) {
	switch n.kind {
	case kTerm:
		if !n.prefix && n.tids != nil && n.tids[0] <= maxArg {
			b.push(opTerm | uint32(n.field)<<4 | n.tids[0]<<8)
			return
		}
		b.slow(n)
	case kPlace:
		b.push(opPlace | uint32(placeIndex[n.toks[0]])<<8)
	case kRemote:
		w := uint32(0)
		if n.want {
			w = 1
		}
		b.push(opRemote | w<<8)
	case kEmp:
		var mask uint32
		for _, t := range n.toks {
			mask |= empBit(t)
		}
		b.push(opEmp | mask<<8)
	case kAnd, kOr:
		op := uint32(opAnd)
		if n.kind == kOr {
			op = opOr
		}
		for i, k := range n.kids {
			b.emit(k)
			if i > 0 {
				b.pop2(op)
			}
		}
	case kNot:
		b.emit(n.kids[0])
		b.code = append(b.code, opNot)
	case kPhrase:
		b.emitPhrase(n)
	default: // kSource
		b.slow(n)
	}
}

// emitPhrase emits a phrase: its words first, cheaply; the position check
// only if all are there.
func (b *progBuilder) emitPhrase(n *node) {
	if n.tids == nil {
		b.slow(n)
		return
	}
	for i, t := range n.tids {
		b.push(opTerm | uint32(n.field)<<4 | t<<8)
		if i > 0 {
			b.pop2(opAnd)
		}
	}
	if n.pid > 0 && n.pid-1 <= maxArg {
		// By phrase id: checked once per job, no look at the entry.
		b.code = append(b.code, opPhrase|(n.pid-1)<<8)
		return
	}
	b.code = append(b.code, opCheck|uint32(len(b.p.slow))<<8)
	b.p.slow = append(b.p.slow, n)
}

// run evaluates the program for a job; tm gives the fields of each token
// id the job carries.
func (p *program) run(root *node, d *doc, tm []Field) bool {
	if p.empty {
		return true
	}
	if p.deep {
		return root.evalFast(d, tm)
	}
	code := p.code[:p.n]
	if p.long != nil {
		code = p.long
	}
	return runCode(code, p, d, tm)
}

// runCode runs a program's code; slow nodes come from p.
func runCode[P interface{ slowNode(uint32) *node }](code []uint32, p P, d *doc, tm []Field) bool {
	var st [maxStack + 1]bool
	sp := 0
	for _, in := range code {
		arg := in >> 8
		switch in & 15 {
		case opTerm:
			st[sp] = tm[arg]&Field(in>>4&15) != 0
			sp++
		case opSlow:
			st[sp] = p.slowNode(arg).eval(d)
			sp++
		case opPlace:
			st[sp] = d.placeMask&(1<<arg) != 0
			sp++
		case opRemote:
			st[sp] = d.remote == (arg == 1)
			sp++
		case opEmp:
			st[sp] = d.empBit == 0 || arg&d.empBit != 0
			sp++
		case opAnd:
			sp--
			st[sp-1] = st[sp-1] && st[sp]
		case opOr:
			sp--
			st[sp-1] = st[sp-1] || st[sp]
		case opNot:
			st[sp-1] = !st[sp-1]
		case opCheck:
			if st[sp-1] {
				st[sp-1] = d.phraseCached(p.slowNode(arg))
			}
		case opPhrase:
			if st[sp-1] {
				st[sp-1] = d.phraseByID(arg)
			}
		case opTrue:
			st[sp] = true
			sp++
		}
	}
	return st[0]
}

// phraseByID is phraseCached for the index's phrase number id.
func (d *doc) phraseByID(id uint32) bool {
	switch d.pc[id] {
	case 1:
		return true
	case 2:
		return false
	}
	ok := d.pnodes[id].phraseIn(d)
	v := uint8(2)
	if ok {
		v = 1
	}
	d.pc[id] = v
	d.pids = append(d.pids, id)
	return ok
}

func (p *program) slowNode(i uint32) *node { return p.slow[i] }
func (e *entry) slowNode(i uint32) *node   { return e.prog.slow[i] }

// phraseIn reports whether the phrase's words stand in a row in one of its
// fields, its words being known to be present.
func (n *node) phraseIn(d *doc) bool {
	for i := range d.fields {
		if n.field&(1<<i) != 0 && containsRun(d.fields[i], n.toks) {
			return true
		}
	}
	return false
}

// phraseCached is phraseIn, remembered per phrase for the job being
// matched: many criteria share a phrase such as "node js".
func (d *doc) phraseCached(n *node) bool {
	if n.pid == 0 || d.pc == nil {
		return n.phraseIn(d)
	}
	switch d.pc[n.pid-1] {
	case 1:
		return true
	case 2:
		return false
	}
	ok := n.phraseIn(d)
	v := uint8(2)
	if ok {
		v = 1
	}
	d.pc[n.pid-1] = v
	d.pids = append(d.pids, n.pid-1)
	return ok
}
