package api_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// addJob stores a job as source lists it (created on first use) and
// returns its id; the same URL from a second source is the same job.
func addJob(t *testing.T, e *env, source string, j model.Job) int64 {
	t.Helper()
	ctx := context.Background()
	var src int64
	srcs, err := e.store.ListSources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range srcs {
		if s.Name == source {
			src = s.ID
		}
	}
	if src == 0 {
		s, err := e.store.CreateSource(ctx, model.Source{Name: source, Kind: model.SourceHTML, URL: "https://" + source + "/", Schedule: "@every 1h"})
		if err != nil {
			t.Fatal(err)
		}
		src = s.ID
	}
	if j.URL == "" {
		j.URL = "https://jobs.example.com/" + url.PathEscape(j.Title+" "+j.Location)
	}
	out, err := e.store.UpsertListings(ctx, src, []storage.Listing{{Job: j, DedupeKey: "url:" + j.URL, Hash: []byte(j.Title)}}, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return out[0].JobID
}

// titles lists the titles of a job list answer, in order.
func titles(out map[string]any) string {
	var got []string
	for _, j := range out["jobs"].([]any) {
		got = append(got, j.(map[string]any)["title"].(string))
	}
	return strings.Join(got, "|")
}

func salary(min, max float64, cur, per string) *model.Salary {
	return &model.Salary{Min: min, Max: max, Currency: cur, Period: per}
}

func TestJobs_FiltersSelectLikeAlerts(t *testing.T) {
	e := newEnv(t)
	addJob(t, e, "boss.az", model.Job{Title: "Cashier", Location: "Bakı, Azərbaycan", EmploymentType: model.EmploymentPartTime})
	addJob(t, e, "boss.az", model.Job{Title: "Driver", Location: "г. Баку", Salary: salary(1200, 0, "AZN", "month")})
	addJob(t, e, "hellojob.az", model.Job{Title: "Go developer", Remote: true, Salary: salary(30000, 0, "USD", "year"), EmploymentType: model.EmploymentFullTime})
	addJob(t, e, "hellojob.az", model.Job{Title: "Nurse", Location: "Sumqayıt", Salary: salary(900, 0, "", "")})
	addJob(t, e, "jobsearch.az", model.Job{Title: "Driver", Location: "г. Баку"}) // the same posting (URL) on a second source
	c := e.client()
	for query, want := range map[string]string{
		"location=baku": "Driver|Cashier",
		"location=" + url.QueryEscape("Баку"): "Driver|Cashier",
		"location=baki":              "Driver|Cashier",
		"location=baku&remote=true":  "Go developer|Driver|Cashier", // as alerts: in the place, or remote
		"remote=true":                "Go developer",
		"remote=false":               "Nurse|Driver|Cashier",
		"salaryMin=1000":             "Go developer|Driver", // 30000 USD a year is 4250 AZN a month
		"salaryMin=2000":             "Go developer",
		"salaryMin=0":                "Nurse|Go developer|Driver|Cashier",
		"type=part-time":             "Nurse|Driver|Cashier", // as alerts: a job that states no type passes
		"type=FULL_TIME":             "Nurse|Go developer|Driver",
		"source=hellojob.az":         "Nurse|Go developer",
		"source=hellojob.az&q=nurse": "Nurse",
		"source=jobsearch.az":        "Driver", // its second source, not its first
		"sort=salary":                "Go developer|Driver|Nurse|Cashier",
		"sort=newest":                "Nurse|Go developer|Driver|Cashier",
		"location=baku&sort=salary":  "Driver|Cashier",
	} {
		out := c.mustDo("GET", "/api/jobs?"+query, nil, 200)
		if got := titles(out); got != want {
			t.Errorf("%s: %q, want %q", query, got, want)
		}
	}
	// The answer states the equivalent alert criteria.
	out := c.mustDo("GET", "/api/jobs?q=go&location=baku&remote=true&salaryMin=1500&type=full-time&source=boss.az", nil, 200)
	crit, _ := out["criteria"].(map[string]any)
	want := `map[employmentTypes:[full-time] location:baku query:go remote:true salaryMin:map[amount:1500 currency:AZN period:month] sources:[boss.az]]`
	if fmt.Sprint(crit) != want {
		t.Errorf("criteria %v, want %s", crit, want)
	}
	if _, ok := c.mustDo("GET", "/api/jobs", nil, 200)["criteria"]; ok {
		t.Error("the whole list states criteria")
	}
}

func TestJobs_BadFilterParameters(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for query, param := range map[string]string{
		"remote=yes":                           "remote",
		"salaryMin=-1":                         "salaryMin",
		"salaryMin=lots":                       "salaryMin",
		"salaryMin=Inf":                        "salaryMin",
		"type=sometimes":                       "type",
		"sort=oldest":                          "sort",
		"sort=salary&cursor=12":                "cursor",
		"sort=salary&cursor=sx:1":              "cursor",
		"cursor=s100:4":                        "cursor",
		"ids=1,x":                              "ids",
		"ids=" + strings.Repeat("1,", 201):     "ids",
		"saved=yes":                            "saved",
		"location=" + strings.Repeat("a", 201): "location",
		"source=" + strings.Repeat("a", 201):   "source",
		"q=" + url.QueryEscape(`"open`):        "q",
	} {
		code, out := c.do("GET", "/api/jobs?"+query, nil)
		msg, _ := out["error"].(string)
		if code != 400 || !strings.HasPrefix(msg, param) {
			t.Errorf("%.40s: %d %q, want 400 naming %s", query, code, msg, param)
		}
	}
	c.mustDo("GET", "/api/jobs?saved=1", nil, 401)
}

// The salary order pages with its own cursor: every job once, in order,
// the ones without a (known) salary last, newest first.
func TestJobs_SortBySalaryPages(t *testing.T) {
	e := newEnv(t)
	for _, j := range []model.Job{
		{Title: "a 1000", Salary: salary(1000, 0, "AZN", "month")},
		{Title: "b none"},
		{Title: "c 2000", Salary: salary(500, 2000, "AZN", "")},
		{Title: "d 1700 (1000 USD)", Salary: salary(1000, 0, "USD", "month")},
		{Title: "e 2000", Salary: salary(24000, 0, "AZN", "year")},
		{Title: "f none", Salary: salary(10, 0, "XYZ", "month")},
		{Title: "g 1000", Salary: salary(1000, 0, "azn", "Month")},
	} {
		addJob(t, e, "boss.az", j)
	}
	c := e.client()
	var got []string
	cursor := ""
	for page := 0; page < 10; page++ {
		out := c.mustDo("GET", "/api/jobs?sort=salary&limit=2"+cursor, nil, 200)
		got = append(got, titles(out))
		next, _ := out["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = "&cursor=" + url.QueryEscape(next)
	}
	want := "e 2000|c 2000|d 1700 (1000 USD)|g 1000|a 1000|f none|b none"
	if strings.Join(got, "|") != want {
		t.Errorf("pages %q, want %s", got, want)
	}
	// A search in the salary order pages the same way.
	out := c.mustDo("GET", "/api/jobs?sort=salary&limit=1&q=none", nil, 200)
	next, _ := out["nextCursor"].(string)
	out2 := c.mustDo("GET", "/api/jobs?sort=salary&limit=1&q=none&cursor="+url.QueryEscape(next), nil, 200)
	if titles(out)+"|"+titles(out2) != "f none|b none" {
		t.Errorf("search by salary: %q then %q", titles(out), titles(out2))
	}
}

func TestJobs_IDsLimitTheList(t *testing.T) {
	e := newEnv(t)
	a := addJob(t, e, "boss.az", model.Job{Title: "Golang developer"})
	b := addJob(t, e, "boss.az", model.Job{Title: "PHP developer"})
	addJob(t, e, "boss.az", model.Job{Title: "Golang lead"})
	c := e.client()
	out := c.mustDo("GET", fmt.Sprintf("/api/jobs?q=golang&ids=%d,%d", a, b), nil, 200)
	if got := titles(out); got != "Golang developer" {
		t.Errorf("ids with a search: %q", got)
	}
}

func TestJobs_SavedAndHiddenPerUser(t *testing.T) {
	e := newEnv(t)
	job := model.Job{Title: "Go developer", URL: "https://jobs.example.com/go"}
	saved := addJob(t, e, "boss.az", job)
	addJob(t, e, "hellojob.az", job)
	hidden := addJob(t, e, "boss.az", model.Job{Title: "PHP developer"})
	anon := e.client()
	anon.mustDo("PUT", fmt.Sprintf("/api/jobs/%d/saved", saved), nil, 401)

	ann, bob := e.client(), e.client()
	ann.mustDo("POST", "/api/signup", map[string]string{"email": "ann@example.com", "password": "correct horse"}, 201)
	bob.mustDo("POST", "/api/signup", map[string]string{"email": "bob@example.com", "password": "correct horse"}, 201)
	if got := ann.mustDo("PUT", fmt.Sprintf("/api/jobs/%d/saved", saved), nil, 200); got["saved"] != true || got["hidden"] != false {
		t.Errorf("save answered %v", got)
	}
	ann.mustDo("PUT", fmt.Sprintf("/api/jobs/%d/saved", saved), nil, 200) // again: no change, no error
	ann.mustDo("PUT", fmt.Sprintf("/api/jobs/%d/hidden", hidden), nil, 200)
	ann.mustDo("PUT", "/api/jobs/999999/saved", nil, 404)
	ann.mustDo("DELETE", "/api/jobs/999999/hidden", nil, 404)
	ann.mustDo("PUT", "/api/jobs/x/saved", nil, 400)

	if got := titles(ann.mustDo("GET", "/api/jobs", nil, 200)); got != "Go developer" {
		t.Errorf("ann's list %q, want the hidden job left out", got)
	}
	for name, c := range map[string]*client{"bob": bob, "anonymous": anon} {
		if got := titles(c.mustDo("GET", "/api/jobs", nil, 200)); got != "PHP developer|Go developer" {
			t.Errorf("%s's list %q: ann's marks are hers", name, got)
		}
	}
	list := ann.mustDo("GET", "/api/jobs?saved=1", nil, 200)
	if got := titles(list); got != "Go developer" || list["jobs"].([]any)[0].(map[string]any)["saved"] != true {
		t.Errorf("saved list %v", list)
	}
	if got := titles(bob.mustDo("GET", "/api/jobs?saved=1", nil, 200)); got != "" {
		t.Errorf("bob's saved list %q", got)
	}
	// One job, its marks and every source it was seen on.
	one := ann.mustDo("GET", fmt.Sprintf("/api/jobs/%d", saved), nil, 200)
	var names []string
	for _, s := range one["sources"].([]any) {
		names = append(names, s.(map[string]any)["name"].(string))
	}
	if one["saved"] != true || !slices.Equal(names, []string{"boss.az", "hellojob.az"}) {
		t.Errorf("GET job: saved %v, sources %v", one["saved"], names)
	}
	if one := bob.mustDo("GET", fmt.Sprintf("/api/jobs/%d", saved), nil, 200); one["saved"] != nil {
		t.Errorf("bob sees ann's mark: %v", one["saved"])
	}

	// Clearing both marks forgets the job's row.
	ann.mustDo("DELETE", fmt.Sprintf("/api/jobs/%d/hidden", hidden), nil, 200)
	ann.mustDo("DELETE", fmt.Sprintf("/api/jobs/%d/saved", saved), nil, 200)
	if got := titles(ann.mustDo("GET", "/api/jobs", nil, 200)); got != "PHP developer|Go developer" {
		t.Errorf("after unhiding: %q", got)
	}
	var rows int
	if err := e.store.DB().QueryRow(context.Background(), `SELECT count(*) FROM job_marks`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("%d job_marks rows left (%v)", rows, err)
	}
}

func TestAlerts_CreateCountsCurrentMatches(t *testing.T) {
	e := newEnv(t)
	addJob(t, e, "boss.az", model.Job{Title: "Golang developer", Location: "Bakı"})
	addJob(t, e, "boss.az", model.Job{Title: "Golang engineer", Location: "Баку", Salary: salary(3000, 0, "AZN", "month")})
	addJob(t, e, "boss.az", model.Job{Title: "Golang developer", Location: "Gəncə"})
	// The Gəncə posting is listed by a second source too: one job, seen on both.
	addJob(t, e, "jobsearch.az", model.Job{Title: "Golang developer", Location: "Gəncə"})
	c := e.client()
	c.mustDo("POST", "/api/signup", map[string]string{"email": "ann@example.com", "password": "correct horse"}, 201)
	for _, tc := range []struct {
		body map[string]any
		want float64
	}{
		{map[string]any{"name": "go baku", "query": "golang", "location": "baku"}, 2},
		{map[string]any{"name": "go rich", "query": "golang", "salaryMin": map[string]any{"amount": 2000}}, 1},
		{map[string]any{"name": "cobol", "query": "cobol"}, 0},
		{map[string]any{"name": "second source", "query": "golang", "sources": []string{"jobsearch.az"}}, 1},
	} {
		out := c.mustDo("POST", "/api/alerts", tc.body, 201)
		if out["currentMatches"] != tc.want || out["currentMatchesPartial"] != nil || out["id"] == nil {
			t.Errorf("%v: answered %v, want currentMatches %v", tc.body["name"], out, tc.want)
		}
	}
}
