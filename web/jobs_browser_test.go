package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/birjob/birjob/api"
	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/browsertest"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/matcher"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
	"github.com/birjob/birjob/web"
)

// jobsEnv is the page against the real job API (PostgreSQL, accounts, the
// matcher's search), with the fake backend's event log as its stream: a
// test stores jobs, then announces some of them with new-job events.
type jobsEnv struct {
	t       *testing.T
	store   *storage.Store
	events  *fakeBackend
	url     string
	sources map[string]int64
}

func newJobsEnv(t *testing.T) *jobsEnv {
	t.Helper()
	store := storage.New(pgtest.New(t))
	as := auth.NewService(store, slog.New(slog.DiscardHandler), auth.WithHashCost(bcrypt.MinCost))
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 1} // the page asks for "me" only when /api/me says it is signed in
	mux := http.NewServeMux()
	api.New(store, matcher.Validate).WithSearch(matcher.Search).WithAuth(as).Routes(mux)
	mux.Handle("/", web.Handler(web.Options{Title: "birjob test"}))
	mux.HandleFunc("GET /api/events/{channel}", b.serveSSE)
	mux.HandleFunc("GET /api/events", b.serveSSE)
	mux.HandleFunc("GET /api/poll/{channel}", b.servePoll)
	mux.HandleFunc("GET /api/poll", b.servePoll)
	srv := httptest.NewServer(as.Middleware(mux))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(b.stop) })
	return &jobsEnv{t: t, store: store, events: b, url: srv.URL, sources: map[string]int64{}}
}

// add stores a job as source lists it (a second source listing the same
// URL makes it one job with two sources) and returns its id.
func (e *jobsEnv) add(source string, j model.Job) int64 {
	e.t.Helper()
	ctx := context.Background()
	src, ok := e.sources[source]
	if !ok {
		s, err := e.store.CreateSource(ctx, model.Source{Name: source, Kind: model.SourceHTML, URL: "https://" + source + "/jobs", Schedule: "@every 1h"})
		if err != nil {
			e.t.Fatal(err)
		}
		src, e.sources[source] = s.ID, s.ID
	}
	if j.URL == "" {
		j.URL = "https://jobs.example.com/" + url.PathEscape(j.Title)
	}
	out, err := e.store.UpsertListings(ctx, src, []storage.Listing{{Job: j, DedupeKey: "url:" + j.URL, Hash: []byte(j.Title)}}, 30*24*time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return out[0].JobID
}

// announce pushes a new-job event for a stored job, as the matcher would.
func (e *jobsEnv) announce(id int64, title string) {
	e.events.push("jobs", "new-job", map[string]any{"id": id, "title": title, "url": "https://jobs.example.com/" + strconv.FormatInt(id, 10)})
}

// rowTitles is a JS expression: the titles of the list's rows, in order.
const rowTitles = `[...document.querySelectorAll("#jobs > li .title")].map(e => e.textContent)`

// listIs waits until the list shows exactly these titles, in this order.
func listIs(t *testing.T, ctx context.Context, titles ...string) {
	t.Helper()
	want, _ := json.Marshal(append([]string{}, titles...))
	browsertest.WaitTrue(t, ctx, fmt.Sprintf(`JSON.stringify(%s) === %q`, rowTitles, want))
}

// signUp creates an account through the page's sign-in form.
func signUp(t *testing.T, ctx context.Context, email string) {
	t.Helper()
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#signin-open")),
		chromedp.SendKeys(chromedp.CSS("#auth-email"), email),
		chromedp.SendKeys(chromedp.CSS("#auth-password"), "password-123"),
		chromedp.Click(chromedp.CSS("#auth-signup")),
	)
	browsertest.WaitVisible(t, ctx, "#who")
	browsertest.WaitTrue(t, ctx, `document.querySelector("#jobs").dataset.user`) // the list reloaded for the user
}

// search types q into the search box and submits it, as a person would.
func search(t *testing.T, ctx context.Context, q string) {
	t.Helper()
	browsertest.Eval[bool](t, ctx, `(document.querySelector("#q").value = "", true)`)
	browsertest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS("#q"), q+"\r"))
	// Until the search's list is shown (a page without #jobs[data-query],
	// as before issue 15, gives nothing to wait for).
	browsertest.WaitTrue(t, ctx, fmt.Sprintf(`(d => d === undefined || new URLSearchParams(d).get("q") === %q)(document.querySelector("#jobs").dataset.query)`, q))
}

// openRow clicks the details button of job id's row, once the row is
// there. The list may be drawn again at any moment (a reload puts the
// same rows in new elements; the baseline run saw one before line 361
// whose cause is not pinned down), and a CDP click
// finds the node, then its box, then clicks: a row replaced between the
// steps fails it ("Could not find node with given id"). Found and clicked
// in one evaluation, the click reaches the row on the page then.
func openRow(t *testing.T, ctx context.Context, id int64) {
	t.Helper()
	browsertest.WaitTrue(t, ctx, fmt.Sprintf(`(b => b ? (b.click(), true) : false)(document.querySelector('#jobs li[data-id="%d"] button.job-open'))`, id))
}

// pageQuery is the page's URL query, decoded.
func pageQuery(t *testing.T, ctx context.Context) url.Values {
	t.Helper()
	v, err := url.ParseQuery(strings.TrimPrefix(browsertest.Eval[string](t, ctx, `location.search`), "?"))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// ---- bugs ----

// agoSeconds reads an "… ago" label as seconds (a lower bound); -1 when it
// is none of the forms the page writes.
func agoSeconds(label string) int {
	if label == "now" || label == "just now" {
		return 0
	}
	m := regexp.MustCompile(`^(\d+) (second|minute|hour|day)s? ago$`).FindStringSubmatch(label)
	if m == nil {
		return map[string]int{"1 minute ago": 60, "1 hour ago": 3600, "yesterday": 86400}[label] - 1
	}
	n, _ := strconv.Atoi(m[1])
	return n * map[string]int{"second": 1, "minute": 60, "hour": 3600, "day": 86400}[m[2]]
}

// The "… ago" labels are kept current by the page's timer (200 ms here,
// through the page's test hook; 5 s by default): a job found 25 s before
// the page opened reads differently within 10 s (labels under a minute go
// by tens of seconds). Today's labels never change.
func TestJobsBrowser_AgoLabelsUpdate(t *testing.T) {
	b := newFakeBackend(t)
	seen := time.Now().Add(-25 * time.Second)
	b.jobs = []map[string]any{{"id": 1, "title": "Go developer", "url": "https://jobs.example.com/1", "firstSeenAt": seen.Format(time.RFC3339Nano)}}
	srv := b.start()
	ctx := newPage(t)
	browsertest.BeforeScripts(t, ctx, `window.birjobAgoInterval = 200;`)
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/"))
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="1"] time`)
	first := browsertest.Text(t, ctx, `#jobs li[data-id="1"] time`)
	if agoSeconds(first) < 20 {
		t.Fatalf("label %q for a job found %s ago", first, time.Since(seen).Round(time.Second))
	}
	// Deadline: the browsertest default (20 s); the label turns within 10 s.
	browsertest.WaitTrue(t, ctx, fmt.Sprintf(`document.querySelector('#jobs li[data-id="1"] time').textContent !== %q`, first))
	next := browsertest.Text(t, ctx, `#jobs li[data-id="1"] time`)
	if agoSeconds(next) <= agoSeconds(first) {
		t.Errorf("label went from %q to %q", first, next)
	}
}

// Reading down the list (newest first) the labels never get younger: a row
// never says "now" above one that says "5 seconds ago" (jobs found seconds
// apart read alike), and a job found a second ago is not "2 hours ago"
// because its board dated it so. Today's page labels each row on its own,
// from the board's date when there is one.
func TestJobsBrowser_AgoLabelsFollowListOrder(t *testing.T) {
	b := newFakeBackend(t)
	now := time.Now()
	at := func(d time.Duration) string { return now.Add(-d).Format(time.RFC3339Nano) }
	b.jobs = []map[string]any{
		{"id": 5, "title": "Found now", "url": "https://jobs.example.com/5", "firstSeenAt": at(0)},
		{"id": 4, "title": "Found 5 s ago", "url": "https://jobs.example.com/4", "firstSeenAt": at(5 * time.Second)},
		{"id": 3, "title": "Found 6 s ago, posted 2 h ago", "url": "https://jobs.example.com/3", "firstSeenAt": at(6 * time.Second), "postedAt": at(2 * time.Hour)},
		{"id": 2, "title": "Found 40 s ago", "url": "https://jobs.example.com/2", "firstSeenAt": at(40 * time.Second)},
	}
	srv := b.start()
	ctx := newPage(t)
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/"))
	browsertest.WaitVisible(t, ctx, `#jobs li[data-id="2"] time`)
	labels := browsertest.Eval[[]string](t, ctx, `[...document.querySelectorAll("#jobs > li time")].map(e => e.textContent)`)
	read := time.Since(now) // the labels were read at most this long after now
	if len(labels) != 4 {
		t.Fatalf("labels %q, want one per row", labels)
	}
	prev := 0
	for i, l := range labels {
		s := agoSeconds(l)
		if s < 0 {
			t.Fatalf("row %d: label %q", i, l)
		}
		if s < prev {
			t.Errorf("row %d says %q below a row that says %q: %q", i, l, labels[i-1], labels)
		}
		prev = s
	}
	// Read within 4 s, both are under 10 s old: "just now". (Later, on a
	// busy machine, the two may fall either side of 10 s, and only the
	// order above holds.)
	if read < 4*time.Second && labels[0] != labels[1] {
		t.Errorf("jobs found 5 s apart read %q above %q", labels[0], labels[1])
	}
}

// A search that finds nothing says so, and offers to clear the search or to
// be told when such a job appears; not "No jobs yet".
func TestJobsBrowser_EmptySearchOffersClearAndAlert(t *testing.T) {
	e := newJobsEnv(t)
	e.add("boss.az", model.Job{Title: "Golang developer", Location: "Baku"})
	ctx := newPage(t)
	browsertest.Do(t, ctx, chromedp.Navigate(e.url+"/"))
	listIs(t, ctx, "Golang developer")
	search(t, ctx, "haskell")
	browsertest.WaitVisible(t, ctx, "#jobs-empty")
	text := browsertest.Text(t, ctx, "#jobs-empty")
	if strings.Contains(text, "No jobs yet") || !strings.Contains(text, "haskell") {
		t.Errorf("empty search says %q; want it to say that nothing matches the search", text)
	}
	browsertest.WaitVisible(t, ctx, "#jobs-empty-alert")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#jobs-empty-clear")))
	listIs(t, ctx, "Golang developer")
	if q := browsertest.Eval[string](t, ctx, `document.querySelector("#q").value`); q != "" {
		t.Errorf("search box still says %q after clearing", q)
	}
	if v := pageQuery(t, ctx); v.Get("q") != "" {
		t.Errorf("URL still has the search after clearing: %v", v)
	}
}

// While searching, the banner counts only the new jobs that match the
// search (the server is asked); today's page counts every new job.
func TestJobsBrowser_NewJobsBannerCountsOnlyMatches(t *testing.T) {
	e := newJobsEnv(t)
	listed := e.add("boss.az", model.Job{Title: "Golang developer", Location: "Baku"})
	ctx := newPage(t)
	browsertest.Do(t, ctx, chromedp.Navigate(e.url+"/"))
	listIs(t, ctx, "Golang developer")
	browsertest.WaitTrue(t, ctx, `document.querySelector("#conn").dataset.state === "live"`)
	search(t, ctx, "golang")
	listIs(t, ctx, "Golang developer")

	for _, title := range []string{"PHP developer", "Accountant", "Designer", "Senior Golang engineer", "Golang team lead"} {
		e.announce(e.add("boss.az", model.Job{Title: title}), title)
	}
	// The expiry comes after the five: once its row is marked, the page
	// has taken every new-job event before it.
	e.events.push("jobs", "job-expired", map[string]any{"id": listed})
	browsertest.WaitVisible(t, ctx, fmt.Sprintf(`#jobs li[data-id="%d"].expired`, listed))
	browsertest.WaitTrue(t, ctx, `document.querySelector("#jobs-notice").textContent.startsWith("2 new jobs")`)
	if got := browsertest.Text(t, ctx, "#jobs-notice"); !strings.Contains(got, "match") {
		t.Errorf("banner %q should say the new jobs match the search", got)
	}
	// Showing them reloads the search.
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#jobs-notice")))
	listIs(t, ctx, "Golang team lead", "Senior Golang engineer", "Golang developer") // its expiry was only an event
	browsertest.WaitTrue(t, ctx, `document.querySelector("#jobs-notice").hidden`)
}

// ---- new flows ----

// A job's details open in the page: the stored description as text, every
// source it was seen on, salary, dates, the apply link. Save and hide ask
// a signed-out person to sign in; signed in, a saved job is in the saved
// list and a hidden one leaves the list, for good.
func TestJobsBrowser_DetailsSaveAndHide(t *testing.T) {
	e := newJobsEnv(t)
	posted := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	valid := time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)
	const desc = "We build payments.\n<script>window.__pwned=1</script><b>Go</b> required."
	job := model.Job{Title: "Backend engineer", Company: "Acme", Location: "Baku", URL: "https://jobs.example.com/backend",
		Description: desc, Salary: &model.Salary{Min: 3000, Max: 4500, Currency: "AZN", Period: "month"},
		PostedAt: &posted, ValidThrough: &valid, EmploymentType: model.EmploymentFullTime}
	id := e.add("boss.az", job)
	if again := e.add("hellojob.az", job); again != id {
		t.Fatalf("the second source's listing made job %d, want it on job %d", again, id)
	}
	other := e.add("boss.az", model.Job{Title: "Office manager", Location: "Baku"})
	ctx := newPage(t)
	browsertest.Do(t, ctx, chromedp.Navigate(e.url+"/"))
	listIs(t, ctx, "Office manager", "Backend engineer")

	row := fmt.Sprintf(`#jobs li[data-id="%d"]`, id)
	// One row for the posting, naming both sources it was seen on.
	if n := browsertest.Eval[int](t, ctx, `[...document.querySelectorAll("#jobs li.job")].filter(li => li.querySelector(".title").textContent === "Backend engineer").length`); n != 1 {
		t.Errorf("%d rows for the posting listed by two sources, want 1", n)
	}
	if got := browsertest.Text(t, ctx, row+" .meta .source"); got != "boss.az · hellojob.az" {
		t.Errorf("the row's sources %q, want both", got)
	}
	openRow(t, ctx, id)
	browsertest.WaitTrue(t, ctx, `document.querySelector("#job-details").open && document.querySelector("#job-details").dataset.complete === "true"`)
	if got := browsertest.Text(t, ctx, "#job-details .description"); got != desc {
		t.Errorf("description %q, want the stored text as is", got)
	}
	if n := browsertest.Eval[int](t, ctx, `document.querySelectorAll("#job-details script, #job-details b").length`); n != 0 {
		t.Errorf("the description made %d elements", n)
	}
	if got := browsertest.Eval[[]string](t, ctx, `[...document.querySelectorAll("#job-details .job-sources a")].map(a => a.textContent + " " + a.href)`); !slices.Equal(got, []string{
		"boss.az https://jobs.example.com/backend", "hellojob.az https://jobs.example.com/backend"}) {
		t.Errorf("sources %q, want both", got)
	}
	facts := browsertest.Text(t, ctx, "#job-details .facts")
	for _, want := range []string{"3,000–4,500 AZN / month", "full-time", "Acme", "2026", "Valid through"} {
		if !strings.Contains(facts, want) {
			t.Errorf("details %q lack %q", facts, want)
		}
	}
	if href := browsertest.Eval[string](t, ctx, `document.querySelector("#job-apply").href`); href != job.URL {
		t.Errorf("apply link %q", href)
	}

	// Signed out: saving asks to sign in.
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#job-save")))
	browsertest.WaitVisible(t, ctx, "#job-details .sign-in-prompt")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#job-details .sign-in-prompt")))
	browsertest.WaitVisible(t, ctx, "#auth-panel")
	browsertest.Eval[bool](t, ctx, `(document.querySelector("#auth-close").click(), true)`)
	signUp(t, ctx, "sam@example.com")

	// Save one, hide the other.
	openRow(t, ctx, id)
	browsertest.WaitTrue(t, ctx, `document.querySelector("#job-details").dataset.complete === "true"`)
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#job-save")))
	browsertest.WaitTrue(t, ctx, `document.querySelector("#job-save").getAttribute("aria-pressed") === "true"`)
	browsertest.WaitVisible(t, ctx, row+".saved .saved-badge")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#job-close")))
	openRow(t, ctx, other)
	browsertest.WaitTrue(t, ctx, `document.querySelector("#job-details").dataset.complete === "true"`)
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#job-hide")))
	listIs(t, ctx, "Backend engineer")
	browsertest.WaitVisible(t, ctx, "#jobs-undo-hide")

	// Both last: a reload lists the saved one, not the hidden one.
	browsertest.Do(t, ctx, chromedp.Reload())
	browsertest.WaitVisible(t, ctx, "#who")
	listIs(t, ctx, "Backend engineer")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#jobs-saved")))
	browsertest.WaitTrue(t, ctx, `new URLSearchParams(location.search).get("saved") === "1"`)
	listIs(t, ctx, "Backend engineer")
	if p := browsertest.Eval[string](t, ctx, `document.querySelector("#jobs-saved").getAttribute("aria-pressed")`); p != "true" {
		t.Errorf("saved toggle aria-pressed = %q", p)
	}
	// Out of the saved list again: the hidden job stays out.
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#jobs-saved")))
	browsertest.WaitTrue(t, ctx, `document.querySelector("#jobs").dataset.query === ""`)
	listIs(t, ctx, "Backend engineer")
	// An event announcing the hidden job again (it came back after
	// expiring) does not bring it back either.
	browsertest.WaitTrue(t, ctx, `document.querySelector("#conn").dataset.state === "live"`)
	openRow(t, ctx, id)
	browsertest.WaitTrue(t, ctx, `document.querySelector("#job-details").dataset.complete === "true"`)
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#job-hide")))
	listIs(t, ctx)
	e.announce(id, "Backend engineer")
	later := e.add("boss.az", model.Job{Title: "Accountant"})
	e.announce(later, "Accountant")
	listIs(t, ctx, "Accountant")
	marks, err := e.store.JobMarks(context.Background(), 1, []int64{id, other})
	if err != nil || !marks[id].Saved || !marks[other].Hidden {
		t.Errorf("stored marks %v (%v)", marks, err)
	}
}

// Filters beside the query select on the server, live in the URL (a
// bookmark opens the same list, Back returns to the previous one) and fill
// the form from it.
func TestJobsBrowser_FiltersInURLAndBack(t *testing.T) {
	e := newJobsEnv(t)
	sal := func(min, max float64, cur string) *model.Salary {
		return &model.Salary{Min: min, Max: max, Currency: cur, Period: "month"}
	}
	e.add("boss.az", model.Job{Title: "Go contractor", Location: "Baku", EmploymentType: model.EmploymentContract, Salary: sal(2000, 0, "AZN")})
	e.add("boss.az", model.Job{Title: "Go developer", Location: "Baku", EmploymentType: model.EmploymentFullTime, Salary: sal(4000, 6000, "AZN")})
	e.add("hellojob.az", model.Job{Title: "Remote Go developer", Remote: true, EmploymentType: model.EmploymentFullTime, Salary: sal(3000, 0, "USD")})
	e.add("hellojob.az", model.Job{Title: "Go intern", Location: "Gəncə", EmploymentType: model.EmploymentInternship})
	ctx := newPage(t)
	browsertest.Do(t, ctx, chromedp.Navigate(e.url+"/"))
	listIs(t, ctx, "Go intern", "Remote Go developer", "Go developer", "Go contractor")

	// A choice in a list applies at once.
	browsertest.Eval[bool](t, ctx, `(s => { s.value = "full-time"; s.dispatchEvent(new Event("change")); return true })(document.querySelector("#f-type"))`)
	listIs(t, ctx, "Remote Go developer", "Go developer")
	if v := pageQuery(t, ctx); v.Get("type") != "full-time" {
		t.Errorf("URL %v, want type=full-time", v)
	}
	// Text applies on Enter. By salary: 6000 AZN above 3000 USD (5100 AZN).
	browsertest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS("#f-salary"), "1200\r"))
	browsertest.WaitTrue(t, ctx, `new URLSearchParams(location.search).get("salaryMin") === "1200"`)
	listIs(t, ctx, "Remote Go developer", "Go developer")
	browsertest.Eval[bool](t, ctx, `(s => { s.value = "salary"; s.dispatchEvent(new Event("change")); return true })(document.querySelector("#f-sort"))`)
	listIs(t, ctx, "Go developer", "Remote Go developer")
	if v := pageQuery(t, ctx); v.Get("sort") != "salary" || v.Get("type") != "full-time" || v.Get("salaryMin") != "1200" {
		t.Errorf("URL %v, want every filter in it", v)
	}
	browsertest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS("#f-salary"), "0\r")) // 1200 → 12000
	browsertest.WaitVisible(t, ctx, "#jobs-empty")

	// Back, step by step.
	browsertest.Eval[bool](t, ctx, `(history.back(), true)`)
	browsertest.WaitTrue(t, ctx, `document.querySelector("#f-salary").value === "1200"`)
	listIs(t, ctx, "Go developer", "Remote Go developer")
	browsertest.Eval[bool](t, ctx, `(history.back(), true)`)
	browsertest.WaitTrue(t, ctx, `document.querySelector("#f-sort").value === ""`)
	listIs(t, ctx, "Remote Go developer", "Go developer")
	browsertest.Eval[bool](t, ctx, `(history.back(), true)`)
	browsertest.WaitTrue(t, ctx, `document.querySelector("#f-salary").value === ""`)
	listIs(t, ctx, "Remote Go developer", "Go developer")
	if v := browsertest.Eval[string](t, ctx, `document.querySelector("#f-type").value`); v != "full-time" {
		t.Errorf("type after Back = %q", v)
	}

	// A bookmark: remote only, by salary.
	browsertest.Do(t, ctx, chromedp.Navigate(e.url+"/?remote=true&sort=salary&source=hellojob.az"))
	listIs(t, ctx, "Remote Go developer")
	if v := browsertest.Eval[string](t, ctx, `document.querySelector("#f-source").value + "|" + document.querySelector("#f-remote").value`); v != "hellojob.az|true" {
		t.Errorf("form from the URL: %q", v)
	}
	// A bad parameter says what is wrong.
	browsertest.Do(t, ctx, chromedp.Navigate(e.url+"/?type=sometimes"))
	browsertest.WaitVisible(t, ctx, "#jobs-error")
	if got := browsertest.Text(t, ctx, "#jobs-error"); !strings.Contains(got, "type") {
		t.Errorf("error %q should name the parameter", got)
	}
}

// The place filter uses the alerts' place aliases: baku, Баку and baki
// find the same jobs, wherever the board wrote Bakı.
func TestJobsBrowser_PlaceAliases(t *testing.T) {
	e := newJobsEnv(t)
	for _, j := range []model.Job{
		{Title: "Cashier", Location: "Bakı, Azərbaycan"},
		{Title: "Driver", Location: "г. Баку"},
		{Title: "Nurse", Location: "Sumqayıt"},
		{Title: "Teacher", Location: "BAKU"},
	} {
		e.add("boss.az", j)
	}
	ctx := newPage(t)
	for _, place := range []string{"baku", "Баку", "baki"} {
		browsertest.Do(t, ctx, chromedp.Navigate(e.url+"/"))
		listIs(t, ctx, "Teacher", "Nurse", "Driver", "Cashier")
		browsertest.Do(t, ctx, chromedp.SendKeys(chromedp.CSS("#f-location"), place+"\r"))
		listIs(t, ctx, "Teacher", "Driver", "Cashier")
		if v := pageQuery(t, ctx); v.Get("location") != place {
			t.Errorf("URL %v, want location=%s", v, place)
		}
	}
}

// One click turns the search into an alert with the same criteria, and
// the page says how many of the jobs listed now it matches.
func TestJobsBrowser_CreateAlertFromSearch(t *testing.T) {
	e := newJobsEnv(t)
	e.add("boss.az", model.Job{Title: "Golang developer", Location: "Bakı"})
	e.add("boss.az", model.Job{Title: "Senior Golang engineer", Location: "Baku"})
	e.add("boss.az", model.Job{Title: "Golang developer", Location: "Gəncə", URL: "https://jobs.example.com/ganja"})
	e.add("boss.az", model.Job{Title: "PHP developer", Location: "Baku"})
	ctx := newPage(t)
	browsertest.Do(t, ctx, chromedp.Navigate(e.url+"/?q=golang&location=baku"))
	listIs(t, ctx, "Senior Golang engineer", "Golang developer")

	// Signed out: the button asks to sign in.
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#alert-from-search")))
	browsertest.WaitVisible(t, ctx, "#jobs-status .sign-in-prompt")
	signUp(t, ctx, "ann@example.com")

	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#alert-from-search")))
	browsertest.WaitTrue(t, ctx, `document.querySelector("#jobs-status").dataset.matches === "2"`)
	if got := browsertest.Text(t, ctx, "#jobs-status"); !strings.Contains(got, "matches 2 jobs") {
		t.Errorf("status %q, want the count of matching jobs", got)
	}
	alerts, err := e.store.ListAlerts(context.Background(), 1)
	if err != nil || len(alerts) != 1 {
		t.Fatalf("alerts %v (%v), want one", alerts, err)
	}
	if a := alerts[0]; a.Query != "golang" || a.Location != "baku" || a.Remote != nil || a.SalaryMin != nil {
		t.Errorf("alert criteria %+v, want the search's", a.Criteria)
	}
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#alert-from-search-see")))
	browsertest.WaitVisible(t, ctx, "#alerts-list li.alert")
}
