package matcher_test

import (
	"runtime"
	"sync"
	"testing"

	"github.com/birjob/birjob/matcher"
	"github.com/birjob/birjob/matcher/alertgen"
	"github.com/birjob/birjob/model"
)

var benchSets sync.Map

func benchIndex(b *testing.B, n int) (*matcher.Index, []*model.Job) {
	type set struct {
		ix   *matcher.Index
		jobs []*model.Job
	}
	if s, ok := benchSets.Load(n); ok {
		return s.(set).ix, s.(set).jobs
	}
	g := alertgen.New(1)
	ix := matcher.NewIndex()
	for i := range n {
		ix.Add(int64(i+1), matcher.Owner{UserID: int64(i/3 + 1)}, g.Criteria())
	}
	jobs := make([]*model.Job, 2000)
	for i := range jobs {
		jobs[i] = g.Job()
	}
	benchSets.Store(n, set{ix, jobs})
	runtime.GC() // not the build's garbage collection in the timed loop
	return ix, jobs
}

func benchMatch(b *testing.B, n int) {
	ix, jobs := benchIndex(b, n)
	b.ResetTimer()
	hits := 0
	i := 0
	var buf []matcher.Hit // reused, as the worker does
	for b.Loop() {
		buf = ix.MatchAppend(buf[:0], jobs[i%len(jobs)])
		hits += len(buf)
		i++
	}
	b.ReportMetric(float64(hits)/float64(i), "hits/job")
}

func BenchmarkIndex_Match_10k(b *testing.B)  { benchMatch(b, 10_000) }
func BenchmarkIndex_Match_100k(b *testing.B) { benchMatch(b, 100_000) }
func BenchmarkIndex_Match_1M(b *testing.B)   { benchMatch(b, 1_000_000) }

func BenchmarkBrute_Match_10k(b *testing.B) {
	g := alertgen.New(1)
	br := matcher.NewBrute()
	for i := range 10_000 {
		br.Add(int64(i+1), matcher.Owner{UserID: int64(i + 1)}, g.Criteria())
	}
	jobs := make([]*model.Job, 200)
	for i := range jobs {
		jobs[i] = g.Job()
	}
	i := 0
	for b.Loop() {
		br.Match(jobs[i%len(jobs)])
		i++
	}
}

func BenchmarkIndex_Build_100k(b *testing.B) {
	g := alertgen.New(1)
	crits := make([]model.Criteria, 100_000)
	for i := range crits {
		crits[i] = g.Criteria()
	}
	for b.Loop() {
		ix := matcher.NewIndex()
		for i, c := range crits {
			ix.Add(int64(i+1), matcher.Owner{UserID: int64(i + 1)}, c)
		}
	}
}

// BenchmarkIndex_AddBatch_100k measures a node's start-up load: 100,000
// criteria compiled in the background while the batch files them.
func BenchmarkIndex_AddBatch_100k(b *testing.B) {
	g := alertgen.New(1)
	items := make([]matcher.Item, 100_000)
	for i := range items {
		items[i] = matcher.Item{ID: int64(i + 1), Owner: matcher.Owner{UserID: int64(i/3 + 1)}, Criteria: g.Criteria()}
	}
	for b.Loop() {
		ix := matcher.NewIndex()
		for lo := 0; lo < len(items); lo += 20_000 {
			ix.AddBatch(items[lo:min(lo+20_000, len(items))], nil)
		}
	}
}
