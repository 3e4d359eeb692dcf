package matcher

import (
	"fmt"
	"sync"

	"github.com/birjob/birjob/model"
)

// Owner is who an indexed criteria belongs to: the user of an alert (zero
// for a feed, whose id is the criteria id). It holds no pointers, so that
// the hits of a job matching many alerts are cheap to collect.
type Owner struct {
	UserID int64
}

// Hit is one criteria that matched a job.
type Hit struct {
	AlertID int64
	Owner   Owner
}

// Matcher is what Index and Brute have in common.
type Matcher interface {
	Add(id int64, owner Owner, c model.Criteria) error
	Update(id int64, owner Owner, c model.Criteria) error
	Remove(id int64)
	Match(job *model.Job) []Hit
	Len() int
}

var (
	_ Matcher = (*Brute)(nil)
)

// Brute evaluates every criteria against every job. It is the oracle the
// Index is tested against, and good enough for a handful of public feeds.
// It is safe for concurrent use.
type Brute struct {
	mu sync.RWMutex
	m  map[int64]bruteEntry
}

type bruteEntry struct {
	owner Owner
	c     *compiled
}

// NewBrute returns an empty Brute.
func NewBrute() *Brute { return &Brute{m: map[int64]bruteEntry{}} }

// Add adds (or replaces) criteria id; invalid criteria are refused.
func (b *Brute) Add(id int64, owner Owner, c model.Criteria) error {
	cc, err := compile(c)
	if err != nil {
		return fmt.Errorf("criteria %d: %w", id, err)
	}
	b.mu.Lock()
	b.m[id] = bruteEntry{owner, cc}
	b.mu.Unlock()
	return nil
}

// Update is Add.
func (b *Brute) Update(id int64, owner Owner, c model.Criteria) error { return b.Add(id, owner, c) }

// Remove removes criteria id, if present.
func (b *Brute) Remove(id int64) {
	b.mu.Lock()
	delete(b.m, id)
	b.mu.Unlock()
}

// Len returns the number of criteria held.
func (b *Brute) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.m)
}

// Match returns every criteria that matches job, in no particular order.
func (b *Brute) Match(job *model.Job) []Hit {
	d := prepare(job)
	b.mu.RLock()
	defer b.mu.RUnlock()
	var hits []Hit
	for id, e := range b.m {
		if e.c.match(d) {
			hits = append(hits, Hit{AlertID: id, Owner: e.owner})
		}
	}
	return hits
}

// Filter is one compiled criteria, for checking jobs one at a time with
// the same semantics as alerts (the jobs search, a preview of what an
// alert would catch).
type Filter struct{ c *compiled }

// NewFilter compiles c; the error is Validate's.
func NewFilter(c model.Criteria) (*Filter, error) {
	cc, err := compile(c)
	if err != nil {
		return nil, err
	}
	return &Filter{cc}, nil
}

// Match reports whether job meets the criteria.
func (f *Filter) Match(job *model.Job) bool { return f.c.match(prepare(job)) }

// Search compiles a job search (GET /api/jobs?q=) written in the query
// language of saved criteria, so that searching shows what an alert with
// the same query would match, folded the same way (Bakı = BAKI = baki,
// Инженер = инженер).
func Search(q string) (func(*model.Job) bool, error) {
	f, err := NewFilter(model.Criteria{Query: q})
	if err != nil {
		return nil, err
	}
	return f.Match, nil
}
