package matcher

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/birjob/birjob/model"
)

// A small vocabulary, so that random queries and jobs overlap often.
var (
	propWords = []string{"golang", "Go", "developer", "Developer", "mühəndis", "MUHENDIS", "инженер",
		"Инженер", "senior", "backend", "bank", "data", "c++", "1C", "İdarə", "idare", "ёлка", "елка", "sql", "menecer", "meneceri", "инженера", "developers", "sqlite"}
	propPlaces    = []string{"", "Baku", "Bakı", "Баку", "Sumqayıt", "Sumgait", "Remote", "Uzaqdan", "Nərimanov", "Berlin", "Azerbaijan"}
	propCompanies = []string{"PASHA Bank", "Kapital Bank", "ABB", "Azercell", "SOCAR", "Bank Respublika"}
	propTypes     = []string{"", "full-time", "part-time", "contract", "internship"}
	propSources   = []string{"boss.az", "hellojob.az", "manual"}
	propCurr      = []string{"AZN", "USD", "EUR", "", "XYZ"}
	propPeriods   = []string{"month", "year", "hour", ""}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func randWord(r *rand.Rand) string {
	w := pick(r, propWords)
	if r.IntN(12) == 0 && len([]rune(w)) > 3 {
		return string([]rune(w)[:2+r.IntN(2)]) + "*"
	}
	return w
}

func randQuery(r *rand.Rand, depth int) string {
	n := 1 + r.IntN(3)
	var parts []string
	for range n {
		var p string
		switch x := r.IntN(10); {
		case x < 4:
			p = randWord(r)
		case x == 4:
			p = fmt.Sprintf(`"%s %s"`, pick(r, propWords), pick(r, propWords))
		case x == 5:
			p = "-" + pick(r, propWords)
		case x == 6 && depth < 3:
			p = "(" + randQuery(r, depth+1) + ")"
		case x == 7:
			p = pick(r, []string{"title:", "company:", "description:"}) + pick(r, propWords)
		case x == 8:
			p = randWord(r) + " OR " + randWord(r)
		default:
			p = pick(r, propWords)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

func randCriteria(r *rand.Rand) model.Criteria {
	var c model.Criteria
	if r.IntN(6) != 0 {
		c.Query = randQuery(r, 0)
	}
	if r.IntN(3) == 0 {
		c.Location = pick(r, propPlaces)
	}
	if r.IntN(6) == 0 {
		b := r.IntN(2) == 0
		c.Remote = &b
	}
	if r.IntN(4) == 0 {
		c.SalaryMin = &model.SalaryMin{Amount: float64(r.IntN(40) * 100), Currency: pick(r, propCurr[:4]), Period: pick(r, propPeriods)}
	}
	if r.IntN(6) == 0 {
		c.EmploymentTypes = []string{pick(r, propTypes[1:])}
	}
	if r.IntN(8) == 0 {
		c.Companies = []string{pick(r, propCompanies), pick(r, propCompanies)}
	}
	if r.IntN(8) == 0 {
		c.ExcludeCompanies = []string{pick(r, propCompanies)}
	}
	if r.IntN(8) == 0 {
		c.Sources = []string{pick(r, propSources)}
	}
	return c
}

func randText(r *rand.Rand, max int) string {
	n := r.IntN(max + 1)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = pick(r, propWords)
	}
	return strings.Join(ws, pick(r, []string{" ", ", ", "/", " - "}))
}

func randJob(r *rand.Rand) *model.Job {
	j := &model.Job{
		Title:          randText(r, 4),
		Company:        pick(r, propCompanies),
		Location:       pick(r, propPlaces),
		Description:    randText(r, 12),
		Remote:         r.IntN(5) == 0,
		EmploymentType: pick(r, propTypes),
		Source:         pick(r, propSources),
	}
	if r.IntN(3) != 0 {
		j.Salary = &model.Salary{Min: float64(r.IntN(30) * 100), Max: float64(r.IntN(50) * 100), Currency: pick(r, propCurr), Period: pick(r, propPeriods)}
	}
	if r.IntN(3) == 0 { // one posting listed by several sources
		j.Sources = []model.JobSource{{Name: j.Source}, {Name: pick(r, propSources)}}
	}
	return j
}

func sortedHits(h []Hit) []Hit {
	slices.SortFunc(h, func(a, b Hit) int {
		if a.AlertID < b.AlertID {
			return -1
		} else if a.AlertID > b.AlertID {
			return 1
		}
		return 0
	})
	return h
}

// checkAgree builds an Index and a Brute from the same random criteria,
// edits and removes some, and requires identical matches on random jobs.
func checkAgree(t *testing.T, seed uint64, nCrit, nJobs int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	ix, br := NewIndex(), NewBrute()
	crits := map[int64]model.Criteria{}
	add := func(id int64, c model.Criteria) {
		crits[id] = c
		o := Owner{UserID: id%7 + int64(r.IntN(2))*100}
		e1, e2 := ix.Add(id, o, c), br.Add(id, o, c)
		if (e1 == nil) != (e2 == nil) {
			t.Fatalf("Add(%+v): index err %v, brute err %v", c, e1, e2)
		}
	}
	if seed%2 == 0 {
		for i := range nCrit {
			add(int64(i), randCriteria(r))
		}
	} else {
		// The bulk path: AddBatch, with duplicates of the same raw criteria.
		var items []Item
		for i := range nCrit {
			c := randCriteria(r)
			if i > 0 && r.IntN(4) == 0 {
				c = items[r.IntN(len(items))].Criteria
			}
			o := Owner{UserID: int64(i % 7)}
			items = append(items, Item{int64(i), o, c})
			crits[int64(i)] = c
			if err := br.Add(int64(i), o, c); err != nil {
				t.Fatal(err)
			}
		}
		ix.AddBatch(items, func(it Item, err error) { t.Fatalf("AddBatch %+v: %v", it, err) })
	}
	for range nCrit / 4 {
		id := int64(r.IntN(nCrit))
		switch r.IntN(4) {
		case 0:
			ix.Remove(id)
			br.Remove(id)
		case 1:
			// Same criteria, maybe another owner and salary: in-place update.
			c := crits[id]
			if r.IntN(2) == 0 {
				c.SalaryMin = &model.SalaryMin{Amount: float64(r.IntN(40) * 100)}
			}
			add(id, c)
		default:
			add(id, randCriteria(r))
		}
	}
	if ix.Len() != br.Len() {
		t.Fatalf("Len: index %d, brute %d", ix.Len(), br.Len())
	}
	for range nJobs {
		j := randJob(r)
		got, want := sortedHits(ix.Match(j)), sortedHits(br.Match(j))
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: job %+v\nindex %v\nbrute %v", seed, j, got, want)
		}
	}
}

func TestIndex_AgreesWithBrute(t *testing.T) {
	for seed := range uint64(20) {
		checkAgree(t, seed, 400, 200)
	}
}

func FuzzIndex_AgreesWithBrute(f *testing.F) {
	f.Add(uint64(1))
	f.Add(uint64(42))
	f.Fuzz(func(t *testing.T, seed uint64) {
		checkAgree(t, seed, 60, 30)
	})
}

// TestIndex_SelectsFewCandidates checks the point of the index: a job
// touching only rare words does not evaluate the criteria of common ones.
func TestIndex_SelectsFewCandidates(t *testing.T) {
	ix := NewIndex()
	for i := range 10000 {
		ix.Add(int64(i), Owner{UserID: int64(i)}, model.Criteria{Query: fmt.Sprintf("python w%d", i), Location: "Baku"})
	}
	st := ix.Stats()
	if st.Always != 0 || st.Entries != 10000 {
		t.Fatalf("stats = %+v", st)
	}
	d := prepare(&model.Job{Title: "Python developer", Description: "w17 w18", Location: "Bakı"})
	set := ix.jobKeys(d, nil)
	n := 0
	for k1 := range set {
		if p := ix.prims[k1]; p != nil {
			n += len(p.single)
			for k2, es := range p.pairs {
				if _, ok := set[k2]; ok {
					n += len(es)
				}
			}
		}
	}
	if n > 2 {
		t.Fatalf("%d candidates for a job matching 2 criteria", n)
	}
	if h := ix.Match(&model.Job{Title: "Python developer", Description: "w17 w18", Location: "Bakı"}); len(h) != 2 {
		t.Fatalf("hits = %v", h)
	}
}

// TestIndex_ConcurrentReadersOneWriter runs matches in parallel with
// edits (run it with -race); every match must still agree with Brute for
// criteria the writer does not touch.
func TestIndex_ConcurrentReadersOneWriter(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	ix, br := NewIndex(), NewBrute()
	for i := range 300 {
		c := randCriteria(r)
		ix.Add(int64(i), Owner{UserID: 1}, c)
		br.Add(int64(i), Owner{UserID: 1}, c)
	}
	jobs := make([]*model.Job, 50)
	for i := range jobs {
		jobs[i] = randJob(r)
	}
	want := make([][]Hit, len(jobs))
	for i, j := range jobs {
		want[i] = sortedHits(br.Match(j))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		wr := rand.New(rand.NewPCG(8, 8))
		for i := range 2000 {
			id := int64(1000 + i%50) // ids the readers' expectations ignore
			if i%3 == 0 {
				ix.Remove(id)
			} else {
				ix.Add(id, Owner{UserID: 2}, randCriteria(wr))
			}
		}
	}()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			var buf []Hit
			for k := range 200 {
				i := (g + k) % len(jobs)
				buf = ix.MatchAppend(buf[:0], jobs[i])
				var got []Hit
				for _, h := range buf {
					if h.AlertID < 1000 {
						got = append(got, h)
					}
				}
				if !slices.Equal(sortedHits(got), want[i]) {
					t.Errorf("job %d: concurrent match differs", i)
					return
				}
			}
		})
	}
	wg.Wait()
	<-done
}

// TestIndex_AddBatchPipelineAgrees loads criteria the way a node does, in
// batches big enough to be compiled in several background chunks while
// earlier chunks are filed, with repeats within and across batches (the
// latter already in the index when their batch begins), invalid criteria
// mixed in, and another writer removing and re-adding criteria meanwhile.
// The index must then agree with the brute-force oracle holding the same
// valid criteria, and every invalid item must be reported once.
func TestIndex_AddBatchPipelineAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	ix, br := NewIndex(), NewBrute()
	const n, batch = 4000, 1500
	var items []Item
	invalid := map[int64]bool{}
	for i := range n {
		c := randCriteria(r)
		switch {
		case i%97 == 13:
			c = model.Criteria{Query: `golang "unclosed`}
			invalid[int64(i)] = true
		case i > 0 && r.IntN(3) == 0:
			c = items[r.IntN(len(items))].Criteria // maybe from an earlier batch
			if _, err := compile(c); err != nil {
				invalid[int64(i)] = true
			}
		}
		items = append(items, Item{int64(i), Owner{UserID: int64(i % 11)}, c})
	}
	// The other writer works on ids the batches do not hold.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		wr := rand.New(rand.NewPCG(8, 8))
		for k := 0; ; k++ {
			select {
			case <-stop:
				return
			default:
			}
			id := int64(n + k%50)
			if k%3 == 2 {
				ix.Remove(id)
			} else {
				ix.Add(id, Owner{UserID: 99}, items[wr.IntN(len(items))].Criteria)
			}
		}
	})
	reported := map[int64]int{}
	for lo := 0; lo < n; lo += batch {
		ix.AddBatch(items[lo:min(n, lo+batch)], func(it Item, err error) { reported[it.ID]++ })
	}
	close(stop)
	wg.Wait()
	for id := int64(n); id < n+50; id++ {
		ix.Remove(id)
	}
	for _, it := range items {
		if invalid[it.ID] {
			if reported[it.ID] != 1 {
				t.Fatalf("invalid criteria %d reported %d times", it.ID, reported[it.ID])
			}
			continue
		}
		if reported[it.ID] != 0 {
			t.Fatalf("valid criteria %d (%+v) reported as invalid", it.ID, it.Criteria)
		}
		if err := br.Add(it.ID, it.Owner, it.Criteria); err != nil {
			t.Fatal(err)
		}
	}
	if ix.Len() != br.Len() {
		t.Fatalf("Len: index %d, brute %d", ix.Len(), br.Len())
	}
	for range 300 {
		j := randJob(r)
		got, want := sortedHits(ix.Match(j)), sortedHits(br.Match(j))
		if !slices.Equal(got, want) {
			t.Fatalf("job %+v\nindex %v\nbrute %v", j, got, want)
		}
	}
}
