package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/birjob/birjob/api"
	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/matcher"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type env struct {
	t     *testing.T
	srv   *httptest.Server
	store *storage.Store
	auth  *auth.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store := storage.New(pgtest.New(t))
	as := auth.NewService(store, slog.New(slog.DiscardHandler), auth.WithHashCost(bcrypt.MinCost))
	mux := http.NewServeMux()
	as.Routes(mux)
	validate := func(c model.Criteria) error {
		if strings.Count(c.Query, `"`)%2 == 1 {
			return fmt.Errorf("unclosed quote in query")
		}
		return nil
	}
	api.New(store, validate).WithSearch(matcher.Search).Routes(mux)
	srv := httptest.NewServer(as.Middleware(mux))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, store: store, auth: as}
}

// client is a cookie-keeping API client, like a browser on the same origin.
type client struct {
	e      *env
	http   *http.Client
	bearer string
	origin string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, http: &http.Client{Jar: jar}}
}

func (c *client) do(method, path string, body any) (int, map[string]any) {
	c.e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, c.e.srv.URL+path, r)
	req.Header.Set("Content-Type", "application/json")
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.origin != "" {
		req.Header.Set("Origin", c.origin)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			c.e.t.Fatalf("%s %s: answer is not a JSON object: %q", method, path, raw)
		}
	}
	if resp.StatusCode >= 400 {
		if msg, _ := out["error"].(string); msg == "" {
			c.e.t.Errorf("%s %s: %d without an error message: %q", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out
}

func (c *client) mustDo(method, path string, body any, want int) map[string]any {
	c.e.t.Helper()
	code, out := c.do(method, path, body)
	if code != want {
		c.e.t.Fatalf("%s %s = %d %v, want %d", method, path, code, out, want)
	}
	return out
}

func TestAccounts_SignupLoginLogoutMe(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	c.mustDo("GET", "/api/me", nil, 401)
	me := c.mustDo("POST", "/api/signup", map[string]string{"email": "ann@example.com", "password": "correct horse"}, 201)
	if me["email"] != "ann@example.com" || me["admin"] != false {
		t.Fatalf("signup answer %v", me)
	}
	if got := c.mustDo("GET", "/api/me", nil, 200); got["email"] != "ann@example.com" {
		t.Fatalf("me = %v", got)
	}
	c.mustDo("POST", "/api/logout", nil, 200)
	c.mustDo("GET", "/api/me", nil, 401)

	c2 := e.client()
	c2.mustDo("POST", "/api/login", map[string]string{"email": "ANN@example.com", "password": "wrong password"}, 401)
	c2.mustDo("POST", "/api/login", map[string]string{"email": "ANN@example.com", "password": "correct horse"}, 200)
	c2.mustDo("GET", "/api/me", nil, 200)

	// Duplicate and malformed signups.
	e.client().mustDo("POST", "/api/signup", map[string]string{"email": "Ann@Example.com", "password": "another one"}, 409)
	e.client().mustDo("POST", "/api/signup", map[string]string{"email": "not-an-email", "password": "long enough"}, 400)
	e.client().mustDo("POST", "/api/signup", map[string]string{"email": "bob@example.com", "password": "short"}, 400)
	code, _ := e.client().do("POST", "/api/signup", nil)
	if code != 400 {
		t.Errorf("empty body: %d", code)
	}

	// The password is stored hashed with bcrypt.
	u, err := e.store.UserByEmail(context.Background(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(u.PasswordHash, "correct horse") || !strings.HasPrefix(u.PasswordHash, "$2") {
		t.Errorf("password not hashed with bcrypt: %q", u.PasswordHash)
	}
}

func TestAccounts_BearerToken(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	c.mustDo("POST", "/api/signup", map[string]string{"email": "bot@example.com", "password": "scripted1"}, 201)
	tok := c.mustDo("POST", "/api/tokens", map[string]string{"name": "cron"}, 201)["token"].(string)

	script := &client{e: e, http: http.DefaultClient, bearer: tok}
	if got := script.mustDo("GET", "/api/me", nil, 200); got["email"] != "bot@example.com" {
		t.Fatalf("bearer me = %v", got)
	}
	// Bearer clients are not browsers: no CSRF dance needed for writes.
	script.mustDo("POST", "/api/alerts", map[string]any{"name": "go", "query": "golang"}, 201)
	bad := &client{e: e, http: http.DefaultClient, bearer: "bjt_nope"}
	bad.mustDo("GET", "/api/jobs", nil, 401)
}

func TestAccounts_CrossOriginRefused(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	c.mustDo("POST", "/api/signup", map[string]string{"email": "eve-target@example.com", "password": "cookie jar"}, 201)
	// The same cookie sent by a page of another site is refused.
	c.origin = "https://evil.example"
	c.mustDo("POST", "/api/alerts", map[string]any{"name": "x", "query": "y"}, 403)
	// Reads are not state changes and pass.
	c.mustDo("GET", "/api/alerts", nil, 200)
}

func TestAccounts_LoginRateLimited(t *testing.T) {
	e := newEnv(t)
	e.client().mustDo("POST", "/api/signup", map[string]string{"email": "victim@example.com", "password": "guessme123"}, 201)
	c := e.client()
	limited := false
	for i := 0; i < 20 && !limited; i++ {
		code, _ := c.do("POST", "/api/login", map[string]string{"email": "victim@example.com", "password": fmt.Sprintf("guess%d", i)})
		switch code {
		case 401:
		case 429:
			limited = true
			if i < 5 {
				t.Fatalf("limited after only %d attempts", i)
			}
		default:
			t.Fatalf("attempt %d: %d", i, code)
		}
	}
	if !limited {
		t.Fatal("20 wrong passwords in a row were never rate limited")
	}
}

func TestAlerts_CRUDAndIsolation(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.client(), e.client()
	ann.mustDo("POST", "/api/signup", map[string]string{"email": "ann@example.com", "password": "password1"}, 201)
	bob.mustDo("POST", "/api/signup", map[string]string{"email": "bob@example.com", "password": "password2"}, 201)

	a := ann.mustDo("POST", "/api/alerts", map[string]any{
		"name": "Go in Baku", "query": `golang -php "backend developer"`, "location": "Bakı",
		"salaryMin":       map[string]any{"amount": 2000, "currency": "AZN", "period": "month"},
		"employmentTypes": []string{"full-time"}, "excludeCompanies": []string{"Acme"},
	}, 201)
	id := int64(a["id"].(float64))
	path := fmt.Sprintf("/api/alerts/%d", id)
	if a["query"] != `golang -php "backend developer"` || a["location"] != "Bakı" || a["paused"] != false {
		t.Fatalf("created alert %v", a)
	}
	ann.mustDo("POST", "/api/alerts", map[string]any{"query": `"unclosed`}, 400)

	// Pause keeps the other fields.
	p := ann.mustDo("PUT", path, map[string]any{"paused": true}, 200)
	if p["paused"] != true || p["query"] != a["query"] || p["location"] != "Bakı" {
		t.Fatalf("after pause: %v", p)
	}
	list := ann.mustDo("GET", "/api/alerts", nil, 200)["alerts"].([]any)
	if len(list) != 1 {
		t.Fatalf("list = %v", list)
	}

	// Bob cannot see, change or delete Ann's alert.
	bob.mustDo("GET", path, nil, 404)
	bob.mustDo("PUT", path, map[string]any{"paused": false}, 404)
	bob.mustDo("DELETE", path, nil, 404)
	if n := len(bob.mustDo("GET", "/api/alerts", nil, 200)["alerts"].([]any)); n != 0 {
		t.Fatalf("bob sees %d alerts", n)
	}
	e.client().mustDo("GET", "/api/alerts", nil, 401)

	ann.mustDo("DELETE", path, nil, 204)
	ann.mustDo("GET", path, nil, 404)
	ann.mustDo("GET", "/api/alerts/abc", nil, 400)
}

func TestFeeds_AdminOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.auth.BootstrapAdmin(ctx, "root@example.com", "admin-pass"); err != nil {
		t.Fatal(err)
	}
	admin, user := e.client(), e.client()
	admin.mustDo("POST", "/api/login", map[string]string{"email": "root@example.com", "password": "admin-pass"}, 200)
	user.mustDo("POST", "/api/signup", map[string]string{"email": "u@example.com", "password": "password1"}, 201)

	user.mustDo("POST", "/api/feeds", map[string]any{"name": "baku", "location": "Baku"}, 403)
	e.client().mustDo("POST", "/api/feeds", map[string]any{"name": "baku", "location": "Baku"}, 401)
	f := admin.mustDo("POST", "/api/feeds", map[string]any{"name": "job-alerts-baku", "title": "Baku", "location": "Baku"}, 201)
	admin.mustDo("POST", "/api/feeds", map[string]any{"name": "job-alerts-baku"}, 409)
	for _, bad := range []string{"me", "jobs", "Upper", "user:1", "", "a b"} {
		admin.mustDo("POST", "/api/feeds", map[string]any{"name": bad}, 400)
	}
	feeds := e.client().mustDo("GET", "/api/feeds", nil, 200)["feeds"].([]any)
	if len(feeds) != 1 || feeds[0].(map[string]any)["location"] != "Baku" {
		t.Fatalf("feeds = %v", feeds)
	}
	path := fmt.Sprintf("/api/feeds/%d", int64(f["id"].(float64)))
	admin.mustDo("PUT", path, map[string]any{"name": "renamed"}, 400)
	if got := admin.mustDo("PUT", path, map[string]any{"location": "Gəncə"}, 200); got["location"] != "Gəncə" {
		t.Fatalf("update = %v", got)
	}
	user.mustDo("DELETE", path, nil, 403)
	admin.mustDo("DELETE", path, nil, 204)
}

// insertJobs stores jobs with these titles (company Acme), oldest first,
// from a manual source "t", and returns their ids.
func insertJobs(t *testing.T, e *env, titles ...string) []int64 {
	t.Helper()
	ctx := context.Background()
	pool := e.store.DB()
	var src int64
	if err := pool.QueryRow(ctx, `INSERT INTO sources (name, kind) VALUES ('t', 'manual') RETURNING id`).Scan(&src); err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(titles))
	for i, title := range titles {
		if err := pool.QueryRow(ctx, `INSERT INTO jobs (source_id, dedupe_key, url, title, company, content_hash)
			VALUES ($1, $2, $3, $4, 'Acme', '\x00') RETURNING id`, src, fmt.Sprint("k", i), fmt.Sprint("https://example.com/", i), title).Scan(&ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func TestJobs_ListPagesNewestFirst(t *testing.T) {
	e := newEnv(t)
	insertJobs(t, e, "Job 0", "Job 1", "Job 2", "Senior Golang Developer", "Job 4", "Job 5", "Job 6")
	c := e.client()
	var titles []string
	cursor := ""
	for page := 0; page < 10; page++ {
		out := c.mustDo("GET", "/api/jobs?limit=3"+cursor, nil, 200)
		for _, j := range out["jobs"].([]any) {
			titles = append(titles, j.(map[string]any)["title"].(string))
		}
		next, _ := out["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = "&cursor=" + next
	}
	want := "Job 6,Job 5,Job 4,Senior Golang Developer,Job 2,Job 1,Job 0"
	if strings.Join(titles, ",") != want {
		t.Fatalf("pages gave %v", titles)
	}
	found := c.mustDo("GET", "/api/jobs?q=golang", nil, 200)["jobs"].([]any)
	if len(found) != 1 || found[0].(map[string]any)["source"] != "t" {
		t.Fatalf("search = %v", found)
	}
	c.mustDo("GET", "/api/jobs?cursor=xyz", nil, 400)
	c.mustDo("GET", "/api/jobs?q="+strings.Repeat("a", 600), nil, 400)
}

func TestAccounts_ExpiredSessionRefusedAndPurged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u, err := e.auth.Signup(ctx, "old@example.com", "password1")
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Minute)
	if err := e.store.CreateToken(ctx, u.ID, "bjs_expired", storage.TokenSession, "", &past); err != nil {
		t.Fatal(err)
	}
	c := &client{e: e, http: http.DefaultClient, bearer: "bjs_expired"}
	c.mustDo("GET", "/api/me", nil, 401)
	n, err := e.store.DeleteExpiredTokens(ctx)
	if err != nil || n != 1 {
		t.Fatalf("purged %d (%v), want the one expired session", n, err)
	}
}

// TestAlerts_RecentMatches: each alert lists the jobs it matched, newest
// first and once each, from the user's own new-job events only.
func TestAlerts_RecentMatches(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pool := e.store.DB()
	ann, bob := e.client(), e.client()
	ann.mustDo("POST", "/api/signup", map[string]string{"email": "ann@example.com", "password": "password1"}, 201)
	bob.mustDo("POST", "/api/signup", map[string]string{"email": "bob@example.com", "password": "password2"}, 201)
	annID := int64(ann.mustDo("GET", "/api/me", nil, 200)["id"].(float64))
	bobID := int64(bob.mustDo("GET", "/api/me", nil, 200)["id"].(float64))
	a := int64(ann.mustDo("POST", "/api/alerts", map[string]any{"query": "golang"}, 201)["id"].(float64))
	b := int64(ann.mustDo("POST", "/api/alerts", map[string]any{"query": "rust"}, 201)["id"].(float64))

	ids := insertJobs(t, e, "Job one", "Job two", "Job bobs")
	job := map[string]int64{"one": ids[0], "two": ids[1], "bobs": ids[2]}
	// What the matcher writes (job JSON with "alerts"), in this order, plus
	// what it does not: an admin's free-form event, a job-expired, and an
	// event on Bob's channel naming Ann's alert.
	for _, ev := range []struct {
		user int64
		typ  string
		data string
	}{
		{annID, "new-job", fmt.Sprintf(`{"id":%d,"title":"Job one","alerts":[%d]}`, job["one"], a)},
		{annID, "new-job", `{"hello":"world"}`},
		{annID, "new-job", fmt.Sprintf(`{"id":%d,"title":"Job two","alerts":[%d,%d]}`, job["two"], a, b)},
		{annID, "job-expired", fmt.Sprintf(`{"id":%d,"alerts":[%d]}`, job["bobs"], b)},
		{bobID, "new-job", fmt.Sprintf(`{"id":%d,"alerts":[%d]}`, job["bobs"], a)},
		{annID, "new-job", fmt.Sprintf(`{"id":%d,"title":"Job one","alerts":[%d]}`, job["one"], a)},
	} {
		if _, err := pool.Exec(ctx, `INSERT INTO events (channel, type, data) VALUES ($1, $2, $3)`,
			model.UserChannel(ev.user), ev.typ, ev.data); err != nil {
			t.Fatal(err)
		}
	}
	got := map[int64][]string{}
	for _, al := range ann.mustDo("GET", "/api/alerts", nil, 200)["alerts"].([]any) {
		al := al.(map[string]any)
		ms, _ := al["matches"].([]any)
		for _, m := range ms {
			got[int64(al["id"].(float64))] = append(got[int64(al["id"].(float64))], m.(map[string]any)["title"].(string))
		}
	}
	if strings.Join(got[a], ",") != "Job one,Job two" || strings.Join(got[b], ",") != "Job two" {
		t.Fatalf("matches: alert a %v (want Job one,Job two), alert b %v (want Job two)", got[a], got[b])
	}
}

// TestJobs_SearchFoldsLikeAlerts: GET /api/jobs?q= uses the alerts' query
// language with their folding, so Azerbaijani and Russian words match in
// any case and spelling the matcher accepts, which the database's ILIKE
// under the C locale would not; a query that cannot parse is a 400 that
// says why; a search reads a bounded number of rows and gives a cursor to
// continue.
func TestJobs_SearchFoldsLikeAlerts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	titles := []string{
		"BAKI OFİSİ ÜÇÜN MÜHƏNDİS", // 1
		"Инженер-программист",      // 2
		"Senior Golang Developer",  // 3
		"PHP and Golang developer", // 4
		"Mühasib",                  // 5
	}
	insertJobs(t, e, titles...)
	c := e.client()
	search := func(q string) string {
		t.Helper()
		var got []string
		for _, j := range c.mustDo("GET", "/api/jobs?q="+url.QueryEscape(q), nil, 200)["jobs"].([]any) {
			got = append(got, j.(map[string]any)["title"].(string))
		}
		return strings.Join(got, "|")
	}
	for q, want := range map[string]string{
		"bakı mühəndis": titles[0],
		"baki muhendis": titles[0],
		"ИНЖЕНЕР":       titles[1],
		"golang -php":   titles[2],
		`"php and"`:     titles[3],
		"mühasib OR инженер-программист": titles[4] + "|" + titles[1],
	} {
		if got := search(q); got != want {
			t.Errorf("q=%q: %q, want %q", q, got, want)
		}
	}
	out := c.mustDo("GET", "/api/jobs?q="+url.QueryEscape(`golang "unclosed`), nil, 400)
	if msg, _ := out["error"].(string); !strings.Contains(msg, "q:") {
		t.Errorf("bad query: error %q should name the parameter", msg)
	}

	// The scan budget: 2 rows per call, newest first. Page one reads jobs 5
	// and 4 (4 matches), page two 3 and 2 (3 matches), page three job 1,
	// the end.
	m, err := matcher.Search("developer")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	before, calls := int64(0), 0
	for {
		jobs, next, err := e.store.ListJobs(ctx, storage.JobQuery{Match: m, ScanBudget: 2, Before: before, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		calls++
		for _, j := range jobs {
			got = append(got, j.Title)
		}
		if next == 0 {
			break
		}
		before = next
	}
	if strings.Join(got, "|") != titles[3]+"|"+titles[2] || calls != 3 {
		t.Fatalf("budgeted search: %q in %d calls, want %q in 3", got, calls, titles[3]+"|"+titles[2])
	}
}
