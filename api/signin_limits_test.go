package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/birjob/birjob/api"
	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/storage"
)

// The sign-in limits over real HTTP: each node is an API server of its
// own (its own pool and auth.Service) on one database, behind
// auth.TrustProxies trusting loopback, so that a test plays any client
// address with X-Forwarded-For.

// quickLimits are the default limits with a per-email slow-down of
// milliseconds, so that a test can make hundreds of failures; the delay's
// growth and cap are TestLimiter_SlowDownBounded's.
func quickLimits() auth.Limits {
	l := auth.DefaultLimits()
	l.SlowStep, l.SlowMax = time.Millisecond, 4*time.Millisecond
	return l
}

// startNode serves the API of a new node on the database at dbURL.
func startNode(t *testing.T, dbURL string, lim auth.Limits) (base string, pool *pgxpool.Pool) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store := storage.New(pool)
	as := auth.NewService(store, slog.New(slog.DiscardHandler), auth.WithHashCost(bcrypt.MinCost), auth.WithLimits(lim))
	mux := http.NewServeMux()
	api.New(store, nil).WithAuth(as).Routes(mux)
	srv := httptest.NewServer(auth.TrustProxies([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, as.Middleware(mux)))
	t.Cleanup(srv.Close)
	return srv.URL, pool
}

// answer is what a client got.
type answer struct {
	code       int
	retryAfter string
	body       string
	cookie     bool
}

// from posts body to base+path as the client at addr (X-Forwarded-For
// from a trusted loopback peer).
func from(t *testing.T, addr, base, path, body string) answer {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", addr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(b)}
	for _, c := range resp.Cookies() {
		a.cookie = a.cookie || (c.Name == auth.CookieName && c.Value != "")
	}
	return a
}

func loginBody(email, pw string) string {
	return fmt.Sprintf(`{"email":%q,"password":%q}`, email, pw)
}

// refused checks a 429 with a Retry-After of whole seconds within the
// window and a message.
func refused(t *testing.T, what string, a answer) {
	t.Helper()
	s, err := strconv.Atoi(a.retryAfter)
	if a.code != 429 || err != nil || s < 1 || s > int(auth.DefaultLimits().Window/time.Second)+1 || !strings.Contains(a.body, "try again in") {
		t.Errorf("%s: %d Retry-After=%q %s; want 429 with Retry-After in seconds within the window and a message", what, a.code, a.retryAfter, a.body)
	}
}

// TestSignInLimits_AcrossNodes: failures counted on node A count on node
// B, for an address and email (5 pass, the 6th is refused, even with the
// right password) and for an address alone (20 pass, whatever the
// emails); another address is not concerned.
func TestSignInLimits_AcrossNodes(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	a, _ := startNode(t, dbURL, quickLimits())
	b, _ := startNode(t, dbURL, quickLimits())
	nodes := []string{a, b}
	if got := from(t, "192.0.2.50", a, "/api/signup", loginBody("ann@example.com", "password-1")); got.code != 201 {
		t.Fatalf("signup: %+v", got)
	}

	for i := range 5 {
		if got := from(t, "198.51.100.7", nodes[i%2], "/api/login", loginBody("ann@example.com", fmt.Sprintf("guess-%d", i))); got.code != 401 {
			t.Fatalf("failure %d on node %d: %+v, want 401", i+1, i%2, got)
		}
	}
	refused(t, "6th try for ann from one address, on node B after failures on both", from(t, "198.51.100.7", b, "/api/login", loginBody("ann@example.com", "guess-6")))
	refused(t, "then the right password from that address, on node A", from(t, "198.51.100.7", a, "/api/login", loginBody("ann@example.com", "password-1")))

	// Existing accounts (a password check of an unknown email costs a
	// full bcrypt, slow under -race), 5 failures each: 20 for the address.
	for i := range 4 {
		if got := from(t, "192.0.2.50", a, "/api/signup", loginBody(fmt.Sprintf("u%d@example.com", i), "password-1")); got.code != 201 {
			t.Fatalf("signup: %+v", got)
		}
	}
	for i := range 20 {
		if got := from(t, "198.51.100.8", nodes[i%2], "/api/login", loginBody(fmt.Sprintf("u%d@example.com", i/5), "guess")); got.code != 401 {
			t.Fatalf("failure %d on node %d: %+v, want 401", i+1, i%2, got)
		}
	}
	refused(t, "21st failure from one address (4 emails, both nodes)", from(t, "198.51.100.8", b, "/api/login", loginBody("new@example.com", "guess")))

	if got := from(t, "198.51.100.9", b, "/api/login", loginBody("ann@example.com", "password-1")); got.code != 200 || !got.cookie {
		t.Errorf("ann from another address: %+v, want 200 with a session", got)
	}
}

// TestSignInLimits_LockOutFails: an attacker spread over 30 addresses
// and both nodes sends 6 wrong passwords for the victim from each (each
// address is refused after 5; 150 failures reach the email's counter,
// which only slows it down); the victim then signs in from their own
// address at once, and again after a sign-out.
func TestSignInLimits_LockOutFails(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	a, _ := startNode(t, dbURL, quickLimits())
	b, _ := startNode(t, dbURL, quickLimits())
	const home = "192.0.2.10"
	if got := from(t, home, a, "/api/signup", loginBody("victim@example.com", "victim-pass")); got.code != 201 {
		t.Fatalf("signup: %+v", got)
	}
	refusals := 0
	for i := range 30 {
		attacker := fmt.Sprintf("203.0.113.%d", i+1)
		for j := range 6 {
			got := from(t, attacker, []string{a, b}[(i+j)%2], "/api/login", loginBody("victim@example.com", fmt.Sprintf("guess-%d-%d", i, j)))
			switch {
			case got.code == 429:
				refusals++
			case got.code != 401:
				t.Fatalf("attacker %s try %d: %+v", attacker, j, got)
			}
		}
	}
	if refusals != 30 {
		t.Errorf("%d attempts refused, want the 6th of each of the 30 addresses", refusals)
	}
	for i, node := range []string{a, b} {
		if got := from(t, home, node, "/api/login", loginBody("victim@example.com", "victim-pass")); got.code != 200 || !got.cookie {
			t.Fatalf("the victim from their own address on node %d after the attack: %+v, want 200 with a session", i, got)
		}
	}
	// The victim's own typo is counted for their address, not refused.
	if got := from(t, home, b, "/api/login", loginBody("victim@example.com", "victim-typo")); got.code != 401 {
		t.Errorf("the victim's typo: %+v, want 401", got)
	}
}

// TestSignInLimits_Signup: an address may sign up 20 accounts in the
// window, then is answered 429 with Retry-After; another address is not.
func TestSignInLimits_Signup(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	a, _ := startNode(t, dbURL, quickLimits())
	b, _ := startNode(t, dbURL, quickLimits())
	for i := range 20 {
		if got := from(t, "198.51.100.20", []string{a, b}[i%2], "/api/signup", loginBody(fmt.Sprintf("s%d@example.com", i), "password-1")); got.code != 201 {
			t.Fatalf("signup %d: %+v", i+1, got)
		}
	}
	refused(t, "21st signup from one address", from(t, "198.51.100.20", a, "/api/signup", loginBody("s21@example.com", "password-1")))
	if got := from(t, "198.51.100.21", a, "/api/signup", loginBody("s21@example.com", "password-1")); got.code != 201 {
		t.Errorf("another address: %+v, want 201", got)
	}
}

// TestSignInLimits_DatabaseDown: while the database is away, sign-in and
// signup answer 503 with Retry-After (not 500, not 429: the limits cannot
// be counted, and nothing is refused for it); once it is back, the same
// node signs in again without a restart.
func TestSignInLimits_DatabaseDown(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	a, pool := startNode(t, dbURL, quickLimits())
	if got := from(t, "192.0.2.30", a, "/api/signup", loginBody("ann@example.com", "password-1")); got.code != 201 {
		t.Fatalf("signup: %+v", got)
	}
	restore := pgtest.Outage(t, pool)
	for _, path := range []string{"/api/login", "/api/signup"} {
		got := from(t, "192.0.2.30", a, path, loginBody("ann@example.com", "password-1"))
		if got.code != 503 || got.retryAfter == "" || !strings.Contains(got.body, "try again") {
			t.Errorf("POST %s with the database down: %+v, want 503 with Retry-After and a message", path, got)
		}
	}
	restore()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := from(t, "192.0.2.30", a, "/api/login", loginBody("ann@example.com", "password-1"))
		if got.code == 200 && got.cookie {
			break
		}
		if got.code != 503 || time.Now().After(deadline) {
			t.Fatalf("login after the database came back: %+v, want 503 until it answers, then 200", got)
		}
		time.Sleep(50 * time.Millisecond) // polling the condition, with a deadline
	}
}

// TestSignInLimits_PasswordChecksOfASession: a signed-in client (a stolen
// session, say) cannot guess the account's password through password
// change or account deletion faster than the per-action limit: the 21st
// check in the window is refused with 429, even with the right password,
// and the account is still there.
func TestSignInLimits_PasswordChecksOfASession(t *testing.T) {
	base, _ := startNode(t, pgtest.NewURL(t), quickLimits())
	su := from(t, "192.0.2.60", base, "/api/signup", loginBody("cat@example.com", "password-1"))
	if su.code != 201 {
		t.Fatalf("signup: %+v", su)
	}
	jar := loginJar(t, base, "cat@example.com", "password-1")
	check := func(method, path, body string) answer {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for _, c := range jar {
			req.AddCookie(c)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(b)}
	}
	for i := range auth.DefaultLimits().PerAddressAction {
		var got answer
		if i%2 == 0 {
			got = check("PUT", "/api/me/password", fmt.Sprintf(`{"currentPassword":"guess-%d","newPassword":"password-2"}`, i))
		} else {
			got = check("DELETE", "/api/me", fmt.Sprintf(`{"password":"guess-%d"}`, i))
		}
		if got.code != 403 {
			t.Fatalf("check %d: %+v, want 403", i+1, got)
		}
	}
	refused(t, "21st password check of the session, right password", check("DELETE", "/api/me", `{"password":"password-1"}`))
	if got := from(t, "192.0.2.61", base, "/api/login", loginBody("cat@example.com", "password-1")); got.code != 200 {
		t.Fatalf("the account is gone or locked for sign-in: %+v", got)
	}
}

// loginJar signs in and returns the session cookies.
func loginJar(t *testing.T, base, email, pw string) []*http.Cookie {
	t.Helper()
	resp, err := http.Post(base+"/api/login", "application/json", strings.NewReader(loginBody(email, pw)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(resp.Cookies()) == 0 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	return resp.Cookies()
}
