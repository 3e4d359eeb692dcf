package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/birjob/birjob/api"
	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/config"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/storage"
)

// proxyEnv is the API behind auth.TrustProxies, as the app serves it,
// and an httputil.ReverseProxy on 127.0.0.1 in front of it that plays a
// TLS-terminating edge proxy: it appends the client's address (the test
// says which, in X-Test-Client, since every test client is on loopback)
// to X-Forwarded-For and sets X-Forwarded-Proto: https.
type proxyEnv struct {
	direct, proxied string
	as              *auth.Service
}

func newProxyEnv(t *testing.T, trusted, metricsAllow string) *proxyEnv {
	t.Helper()
	store := storage.New(pgtest.New(t))
	as := auth.NewService(store, slog.New(slog.DiscardHandler), auth.WithHashCost(bcrypt.MinCost))
	mux := http.NewServeMux()
	api.New(store, nil).WithAuth(as).Routes(mux)
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"addr": auth.ClientIP(r), "https": auth.IsHTTPS(r)})
	})
	allow, err := config.ParseCIDRs(metricsAllow)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("GET /metrics", auth.Restrict(allow, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "birjob_up 1\n")
	})))
	nets, err := config.ParseCIDRs(trusted)
	if err != nil {
		t.Fatal(err)
	}
	backend := httptest.NewServer(auth.TrustProxies(nets, as.Middleware(mux)))
	t.Cleanup(backend.Close)
	target, _ := url.Parse(backend.URL)
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host
		client := pr.In.Header.Get("X-Test-Client")
		pr.Out.Header.Del("X-Test-Client")
		if prior := pr.In.Header.Get("X-Forwarded-For"); prior != "" {
			client = prior + ", " + client
		}
		pr.Out.Header.Set("X-Forwarded-For", client)
		pr.Out.Header.Set("X-Forwarded-Proto", "https")
	}})
	t.Cleanup(proxy.Close)
	return &proxyEnv{direct: backend.URL, proxied: proxy.URL, as: as}
}

// call sends a request with the given headers and returns the status, the
// body and the Set-Cookie of the session, if any.
func pcall(t *testing.T, method, u string, hdr map[string]string, body string) (int, string, *http.Cookie) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.Name == auth.CookieName {
			return resp.StatusCode, string(b), c
		}
	}
	return resp.StatusCode, string(b), nil
}

func whoami(t *testing.T, u string, hdr map[string]string) (string, bool) {
	t.Helper()
	code, body, _ := pcall(t, "GET", u+"/whoami", hdr, "")
	var out struct {
		Addr  string
		HTTPS bool
	}
	if code != 200 || json.Unmarshal([]byte(body), &out) != nil {
		t.Fatalf("whoami = %d %s", code, body)
	}
	return out.Addr, out.HTTPS
}

// TestProxy_Trusted: behind a trusted proxy the client's address is the
// rightmost hop that is not a trusted proxy (a header the client made up
// does not choose it), the scheme is the proxy's, so the session cookie is
// Secure, and the sign-in limiter counts each client on its own.
func TestProxy_Trusted(t *testing.T) {
	e := newProxyEnv(t, "127.0.0.0/8", "")
	spoof := map[string]string{"X-Test-Client": "198.51.100.7", "X-Forwarded-For": "203.0.113.66", "Forwarded": "for=203.0.113.67"}
	if addr, https := whoami(t, e.proxied, spoof); addr != "198.51.100.7" || !https {
		t.Errorf("behind the proxy: %s https=%v, want 198.51.100.7 https=true", addr, https)
	}
	// Forwarded (RFC 7239) is read first, IPv6 and ports included; a
	// request straight from a trusted address carries its own say.
	fwd := map[string]string{"Forwarded": `for=203.0.113.9;proto=http, for="[2001:db8::1]:4711";proto=https`}
	if addr, https := whoami(t, e.direct, fwd); addr != "2001:db8::1" || !https {
		t.Errorf("Forwarded: %s https=%v, want 2001:db8::1 https=true", addr, https)
	}
	if addr, https := whoami(t, e.direct, map[string]string{"X-Forwarded-For": "unknown"}); addr != "127.0.0.1" || https {
		t.Errorf("unknown hop: %s https=%v, want the peer 127.0.0.1, http", addr, https)
	}

	creds := `{"email":"ann@example.com","password":"password1"}`
	code, _, c := pcall(t, "POST", e.proxied+"/api/signup", map[string]string{"X-Test-Client": "198.51.100.7"}, creds)
	if code != 201 || c == nil || !c.Secure || !c.HttpOnly {
		t.Fatalf("signup through the proxy: %d, cookie %+v; want 201 and a Secure HttpOnly cookie", code, c)
	}
	if _, _, c := pcall(t, "POST", e.direct+"/api/login", nil, creds); c == nil || c.Secure {
		t.Fatalf("login over plain HTTP from loopback: cookie %+v, want one without Secure", c)
	}

	// One client spends its address's sign-in attempts (on an existing
	// account, whose hash is cheap in tests); another client of the same
	// proxy is not refused.
	limited := false
	for i := range 12 {
		body := fmt.Sprintf(`{"email":"ann@example.com","password":"wrong-password-%d"}`, i)
		if code, _, _ := pcall(t, "POST", e.proxied+"/api/login", map[string]string{"X-Test-Client": "198.51.100.7"}, body); code == 429 {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("12 wrong sign-ins from one client were never limited")
	}
	if code, body, _ := pcall(t, "POST", e.proxied+"/api/login", map[string]string{"X-Test-Client": "198.51.100.8"}, `{"email":"ann@example.com","password":"wrong-password"}`); code != 401 {
		t.Errorf("another client behind the proxy, same email: %d %s, want 401 (its own counters)", code, body)
	}
}

// TestProxy_Untrusted: a peer outside BIRJOB_TRUSTED_PROXIES (here the
// proxy on 127.0.0.1 while only 10.0.0.0/8 is trusted) has its forwarding
// headers ignored: the address is the peer's, the cookie is not Secure,
// and its clients share the peer's sign-in counters.
func TestProxy_Untrusted(t *testing.T) {
	e := newProxyEnv(t, "10.0.0.0/8", "")
	if addr, https := whoami(t, e.proxied, map[string]string{"X-Test-Client": "198.51.100.7"}); addr != "127.0.0.1" || https {
		t.Errorf("untrusted proxy: %s https=%v, want 127.0.0.1 https=false", addr, https)
	}
	if addr, _ := whoami(t, e.direct, map[string]string{"Forwarded": "for=10.1.2.3;proto=https"}); addr != "127.0.0.1" {
		t.Errorf("untrusted Forwarded: %s, want 127.0.0.1", addr)
	}
	code, _, c := pcall(t, "POST", e.proxied+"/api/signup", map[string]string{"X-Test-Client": "198.51.100.7"}, `{"email":"ann@example.com","password":"password1"}`)
	if code != 201 || c == nil || c.Secure {
		t.Fatalf("signup through an untrusted proxy: %d, cookie %+v; want 201 and no Secure", code, c)
	}
	for i := range 12 {
		body := fmt.Sprintf(`{"email":"ann@example.com","password":"wrong-password-%d"}`, i)
		if code, _, _ := pcall(t, "POST", e.proxied+"/api/login", map[string]string{"X-Test-Client": "198.51.100.7"}, body); code == 429 {
			break
		}
	}
	if code, _, _ := pcall(t, "POST", e.proxied+"/api/login", map[string]string{"X-Test-Client": "198.51.100.8"}, `{"email":"ann@example.com","password":"wrong-password"}`); code != 429 {
		t.Errorf("another client of the untrusted proxy, same email: %d, want 429 (one set of counters: the proxy's address)", code)
	}
}

// TestMetrics_Restricted: /metrics is served to the allowed networks and
// to admins' bearer tokens; a client through a trusted proxy is judged by
// its own address, so a public client of the edge proxy is refused even
// though the proxy's own address is allowed.
func TestMetrics_Restricted(t *testing.T) {
	e := newProxyEnv(t, "127.0.0.0/8", config.DefaultMetricsAllowString())
	if code, body, _ := pcall(t, "GET", e.direct+"/metrics", nil, ""); code != 200 || !strings.Contains(body, "birjob_up") {
		t.Errorf("from loopback: %d %s", code, body)
	}
	code, body, _ := pcall(t, "GET", e.proxied+"/metrics", map[string]string{"X-Test-Client": "198.51.100.7"}, "")
	if code != 403 || !strings.Contains(body, "BIRJOB_METRICS_ALLOW") || strings.Contains(body, "birjob_up") {
		t.Errorf("public client through the proxy: %d %s, want 403 naming BIRJOB_METRICS_ALLOW", code, body)
	}
	if code, _, _ := pcall(t, "GET", e.proxied+"/metrics", map[string]string{"X-Test-Client": "10.0.0.5"}, ""); code != 200 {
		t.Errorf("private client through the proxy: %d, want 200", code)
	}

	closed := newProxyEnv(t, "", "none")
	if code, _, _ := pcall(t, "GET", closed.direct+"/metrics", nil, ""); code != 403 {
		t.Errorf("BIRJOB_METRICS_ALLOW=none, anonymous: %d, want 403", code)
	}
	ctx := t.Context()
	admin, err := closed.as.BootstrapAdmin(ctx, "root@example.com", "admin-pass")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := closed.as.CreateAPIToken(ctx, admin.ID, "prometheus")
	if err != nil {
		t.Fatal(err)
	}
	if code, _, _ := pcall(t, "GET", closed.direct+"/metrics", map[string]string{"Authorization": "Bearer " + tok}, ""); code != 200 {
		t.Errorf("admin's bearer token: %d, want 200", code)
	}
	user, err := closed.as.Signup(ctx, "ann@example.com", "password1")
	if err != nil {
		t.Fatal(err)
	}
	utok, err := closed.as.CreateAPIToken(ctx, user.ID, "x")
	if err != nil {
		t.Fatal(err)
	}
	if code, _, _ := pcall(t, "GET", closed.direct+"/metrics", map[string]string{"Authorization": "Bearer " + utok}, ""); code != 403 {
		t.Errorf("a user's bearer token: %d, want 403", code)
	}
}
