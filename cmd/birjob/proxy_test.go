package main

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/config"
)

// TestProxy_AppTrustedAndUntrusted runs two nodes of the app on one
// database, one with BIRJOB_TRUSTED_PROXIES covering loopback (where the
// test's requests come from, as from a proxy) and one without: the first
// takes the client's address and scheme from X-Forwarded-For and
// X-Forwarded-Proto (a Secure session cookie; sign-in counters per
// forwarded client), the second ignores them (no Secure flag; every client
// is the peer, sharing one address's counters). It checks the wiring of
// cmd/birjob; api's TestProxy_Trusted and TestProxy_Untrusted check the
// resolution itself (Forwarded, chains of hops, spoofed headers).
func TestProxy_AppTrustedAndUntrusted(t *testing.T) {
	cfg := testConfig(t)
	cfg.Demo = config.DemoOff
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	trusting, _ := startApp(t, cfg)
	cfg.TrustedProxies = nil
	cfg.AdminEmail, cfg.AdminPassword = "", ""
	untrusting, _ := startApp(t, cfg)

	send := func(base, path, client, body string) (int, *http.Cookie) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", client)
		req.Header.Set("X-Forwarded-Proto", "https")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		for _, c := range resp.Cookies() {
			if c.Name == auth.CookieName {
				return resp.StatusCode, c
			}
		}
		return resp.StatusCode, nil
	}

	code, c := send(trusting.URL(), "/api/signup", "198.51.100.1", `{"email":"ann@example.com","password":"password-1"}`)
	if code != 201 || c == nil || !c.Secure || !c.HttpOnly {
		t.Fatalf("signup on the trusting node: %d, cookie %+v; want 201 and a Secure HttpOnly cookie", code, c)
	}
	code, c = send(untrusting.URL(), "/api/login", "198.51.100.1", `{"email":"ann@example.com","password":"password-1"}`)
	if code != 200 || c == nil || c.Secure {
		t.Fatalf("login on the other node: %d, cookie %+v; want 200 and a cookie without Secure (X-Forwarded-Proto ignored)", code, c)
	}

	for _, who := range []string{"bob", "cat"} {
		if code, _ := send(trusting.URL(), "/api/signup", "198.51.100.2", `{"email":"`+who+`@example.com","password":"password-1"}`); code != 201 {
			t.Fatalf("signup %s: %d", who, code)
		}
	}
	// (Each email on its own counter, so the per-email slow-down stays
	// at a second or two.)
	wrong := func(who string, i int) string {
		return fmt.Sprintf(`{"email":"%s@example.com","password":"wrong-%d"}`, who, i)
	}
	// Trusting: a forwarded client that failed 5 times is refused, and
	// another forwarded client is not.
	for i := range 5 {
		if code, _ := send(trusting.URL(), "/api/login", "198.51.100.20", wrong("bob", i)); code != 401 {
			t.Fatalf("failure %d of one forwarded client: %d, want 401", i+1, code)
		}
	}
	if code, _ := send(trusting.URL(), "/api/login", "198.51.100.20", wrong("bob", 6)); code != 429 {
		t.Errorf("6th failure of one forwarded client: %d, want 429", code)
	}
	if code, _ := send(trusting.URL(), "/api/login", "198.51.100.21", wrong("bob", 7)); code != 401 {
		t.Errorf("another forwarded client: %d, want 401 (its own counters)", code)
	}
	// Not trusting: the forwarded addresses are ignored, so five
	// "different" clients are one address, and the sixth is refused.
	for i := range 5 {
		if code, _ := send(untrusting.URL(), "/api/login", fmt.Sprintf("203.0.113.%d", 10+i), wrong("cat", i)); code != 401 {
			t.Fatalf("client %d behind the untrusted peer: %d, want 401", i, code)
		}
	}
	if code, _ := send(untrusting.URL(), "/api/login", "203.0.113.99", wrong("cat", 6)); code != 429 {
		t.Errorf("a sixth 'client' behind the untrusted peer: %d, want 429 (all are 127.0.0.1)", code)
	}
}
