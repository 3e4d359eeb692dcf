package auth

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/birjob/birjob/internal/httpx"
)

// Who is on the other end of a request, behind reverse proxies.
//
// TrustProxies reads the client's address and scheme from Forwarded (RFC
// 7239), or else X-Forwarded-For and X-Forwarded-Proto, only when the TCP
// peer is a trusted proxy (BIRJOB_TRUSTED_PROXIES); from anyone else these
// headers are ignored, since any client can send them. The hops are read
// from the right (the nearest proxy's) and the client is the first address
// that is not itself a trusted proxy (the rightmost untrusted hop), so a
// client cannot choose its address by sending a made-up header through a
// proxy that appends to it. The scheme is the one the hop that reported
// that client saw (its proto=, or the X-Forwarded-Proto value at the same
// position, or the last one). ClientIP (the sign-in limiter's key, the
// metrics allow list) and the Secure flag of the session cookie
// (IsHTTPS) follow.

type clientKey struct{}

type clientInfo struct {
	addr  netip.Addr
	https bool
}

// TrustProxies returns next behind the resolution of the client's address
// and scheme described above; trusted lists the proxies' networks (nil:
// no proxy is trusted, the TCP peer is the client).
func TrustProxies(trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ci := resolveClient(r, trusted)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, ci)))
	})
}

// hop is one proxy's report of the request it received.
type hop struct {
	addr  netip.Addr // invalid: unknown or obfuscated
	proto string
}

func resolveClient(r *http.Request, trusted []netip.Prefix) clientInfo {
	ci := clientInfo{addr: peerAddr(r), https: r.TLS != nil}
	if !inAny(ci.addr, trusted) {
		return ci
	}
	hops := forwardedHops(r.Header)
	if hops == nil {
		hops = xffHops(r.Header)
	}
	for i := len(hops) - 1; i >= 0 && inAny(ci.addr, trusted); i-- {
		if !hops[i].addr.IsValid() {
			break // a trusted proxy could not say who its client was
		}
		ci.addr = hops[i].addr
		if p := strings.ToLower(hops[i].proto); p != "" {
			ci.https = p == "https" || p == "wss"
		}
	}
	return ci
}

// forwardedHops parses the Forwarded header's elements (nil when absent).
func forwardedHops(h http.Header) []hop {
	var out []hop
	for _, line := range h.Values("Forwarded") {
		for _, elem := range strings.Split(line, ",") {
			var hp hop
			for _, pair := range strings.Split(elem, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(pair), "=")
				v = strings.Trim(strings.TrimSpace(v), `"`)
				switch strings.ToLower(k) {
				case "for":
					hp.addr = parseHost(v)
				case "proto":
					hp.proto = v
				}
			}
			out = append(out, hp)
		}
	}
	return out
}

// xffHops parses X-Forwarded-For, with X-Forwarded-Proto's value at the
// same position (or, when the counts differ, its last value on the last
// hop).
func xffHops(h http.Header) []hop {
	var out []hop
	for _, line := range h.Values("X-Forwarded-For") {
		for _, v := range strings.Split(line, ",") {
			out = append(out, hop{addr: parseHost(strings.TrimSpace(v))})
		}
	}
	var protos []string
	for _, line := range h.Values("X-Forwarded-Proto") {
		for _, v := range strings.Split(line, ",") {
			protos = append(protos, strings.TrimSpace(v))
		}
	}
	switch {
	case len(out) == 0:
	case len(protos) == len(out):
		for i := range out {
			out[i].proto = protos[i]
		}
	case len(protos) > 0:
		out[len(out)-1].proto = protos[len(protos)-1]
	}
	return out
}

// parseHost reads an address with or without a port ("192.0.2.1",
// "192.0.2.1:80", "[2001:db8::1]:443", "2001:db8::1"); anything else
// ("unknown", "_hidden") is the invalid Addr.
func parseHost(v string) netip.Addr {
	if a, err := netip.ParseAddr(strings.Trim(v, "[]")); err == nil {
		return a.Unmap()
	}
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

func inAny(a netip.Addr, nets []netip.Prefix) bool {
	if !a.IsValid() {
		return false
	}
	for _, n := range nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddr is the client's address: as TrustProxies resolved it, or
// the TCP peer (invalid when RemoteAddr is not an address).
func ClientAddr(r *http.Request) netip.Addr {
	if ci, ok := r.Context().Value(clientKey{}).(clientInfo); ok {
		return ci.addr
	}
	return peerAddr(r)
}

// IsHTTPS reports whether the client reached birjob over HTTPS: over TLS
// to this process, or as a trusted proxy says (TrustProxies).
func IsHTTPS(r *http.Request) bool {
	if ci, ok := r.Context().Value(clientKey{}).(clientInfo); ok {
		return ci.https
	}
	return r.TLS != nil
}

// Restrict serves next only to admins (a session or bearer token, put on
// the context by Middleware) and to clients whose address (ClientAddr) is
// in allow; others get 403 saying how to get in. It guards /metrics.
func Restrict(allow []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := PrincipalFrom(r.Context()); (ok && p.Admin) || inAny(ClientAddr(r), allow) {
			next.ServeHTTP(w, r)
			return
		}
		httpx.Errorf(w, http.StatusForbidden, "%s is served to admins (a bearer token) and to the addresses in BIRJOB_METRICS_ALLOW; %s is not among them",
			r.URL.Path, ClientAddr(r))
	})
}
