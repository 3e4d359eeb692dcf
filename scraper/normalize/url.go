package normalize

import (
	"errors"
	"fmt"
	"html"
	"net/url"
	"sort"
	"strings"
)

// ErrBadURL is returned for links that are empty, unparsable, or not http(s).
var ErrBadURL = errors.New("not an http or https URL")

// trackingParams are query parameters that only say where a click came
// from; they are dropped from canonical URLs. Keys are lower case; a key
// ending in "*" is a prefix.
var trackingParams = []string{
	"utm_*", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "fbclid", "msclkid",
	"yclid", "ysclid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "igshid",
	"ref", "ref_src", "referrer", "trk", "trackingid", "spm", "vero_id", "oly_enc_id", "oly_anon_id", "mkt_tok", "cmpid", "sc_cid",
}

func isTracking(key string) bool {
	key = strings.ToLower(key)
	for _, p := range trackingParams {
		if strings.HasSuffix(p, "*") {
			if strings.HasPrefix(key, p[:len(p)-1]) {
				return true
			}
		} else if key == p {
			return true
		}
	}
	return false
}

// CanonicalURL resolves raw against base (which may be nil for an absolute
// raw) and returns its canonical form; see the package documentation.
func CanonicalURL(raw string, base *url.URL) (string, error) {
	u, err := ResolveURL(raw, base)
	if err != nil {
		return "", err
	}
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err == nil {
			for k := range q {
				if isTracking(k) {
					delete(q, k)
				}
			}
			keys := make([]string, 0, len(q))
			for k := range q {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var b strings.Builder
			for _, k := range keys {
				vs := q[k]
				for _, v := range vs {
					if b.Len() > 0 {
						b.WriteByte('&')
					}
					b.WriteString(url.QueryEscape(k))
					b.WriteByte('=')
					b.WriteString(url.QueryEscape(v))
				}
			}
			u.RawQuery = b.String()
		}
	}
	u.ForceQuery = false
	return u.String(), nil
}

// ResolveURL resolves raw (trimmed, entity-decoded) against base and checks
// that the result is an http or https URL with a host. Scheme and host are
// lower-cased and default ports dropped; path and query are kept as they
// are.
func ResolveURL(raw string, base *url.URL) (*url.URL, error) {
	raw = strings.TrimSpace(html.UnescapeString(strings.ToValidUTF8(raw, "")))
	// Browsers drop tabs and newlines inside URLs.
	raw = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(raw)
	if raw == "" {
		return nil, fmt.Errorf("%w: empty", ErrBadURL)
	}
	ref, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrBadURL, clip(raw), err)
	}
	u := ref
	if base != nil {
		u = base.ResolveReference(ref)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: %q", ErrBadURL, clip(raw))
	}
	if u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("%w: %q has no host", ErrBadURL, clip(raw))
	}
	u.User = nil
	host := strings.ToLower(u.Hostname())
	host = strings.TrimSuffix(host, ".")
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	u.Host = host
	if u.Path == "" {
		u.Path = "/"
		u.RawPath = ""
	}
	return u, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return truncate(s, 80) + "…"
	}
	return s
}
