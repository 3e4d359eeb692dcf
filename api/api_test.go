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
	validate := func(c model.Criteria) error {
		if strings.Count(c.Query, `"`)%2 == 1 {
			return fmt.Errorf("unclosed quote in query")
		}
		return nil
	}
	api.New(store, validate).WithSearch(matcher.Search).WithAuth(as).Routes(mux)
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
	if _, ok := me["token"]; ok {
		t.Fatalf("signup answered the session token in its body (it belongs in the HttpOnly cookie): %v", me)
	}
	if got := c.mustDo("GET", "/api/me", nil, 200); got["email"] != "ann@example.com" {
		t.Fatalf("me = %v", got)
	}
	c.mustDo("POST", "/api/logout", nil, 200)
	c.mustDo("GET", "/api/me", nil, 401)

	c2 := e.client()
	c2.mustDo("POST", "/api/login", map[string]string{"email": "ANN@example.com", "password": "wrong password"}, 401)
	if got := c2.mustDo("POST", "/api/login", map[string]string{"email": "ANN@example.com", "password": "correct horse"}, 200); got["token"] != nil {
		t.Fatalf("login answered the session token in its body: %v", got)
	}
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
