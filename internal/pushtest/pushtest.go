// Package pushtest is a Web Push service for tests: an HTTP server on
// loopback that, for every message, checks the VAPID signature as RFC 8292
// says (an ES256 JWT in "Authorization: vapid t=…, k=…" with aud, exp and
// sub claims) and decrypts the aes128gcm payload as RFC 8291 says, with the
// subscription's private key and auth secret, as a browser would.
package pushtest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Subscription is a browser's side of a push subscription: what the page
// would send to birjob (Endpoint, P256dh, Auth) and the private key.
type Subscription struct {
	Endpoint string
	P256dh   string // base64url of the uncompressed public point
	Auth     string // base64url of the 16-byte auth secret
	priv     *ecdh.PrivateKey
	auth     []byte
}

// Message is one request the service received.
type Message struct {
	Endpoint  string
	Plaintext []byte // the decrypted payload
	VAPIDKey  string // the k= of the Authorization header
	Claims    Claims
	Topic     string
	TTL       string
	Status    int   // what the service answered
	Err       error // why the request was refused (signature, encryption)
	// Cut is set when the body could not be read whole (the sender died
	// mid-request): the message was not delivered.
	Cut bool
	At  time.Time
}

// Claims are the JWT claims of a VAPID token.
type Claims struct {
	Aud string `json:"aud"`
	Exp int64  `json:"exp"`
	Sub string `json:"sub"`
}

// Server is the push service. Messages receives every request, checked and
// decrypted; Respond, when set, picks the status of each (n counts the
// requests to that endpoint, from 1); the default is 201.
type Server struct {
	*httptest.Server
	Messages chan Message
	Respond  func(endpoint string, n int) int

	mu    sync.Mutex
	subs  map[string]*Subscription
	count map[string]int
}

// New starts a push service on 127.0.0.1, closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{Messages: make(chan Message, 100000), subs: map[string]*Subscription{}, count: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Subscribe makes a new browser subscription with an endpoint of this
// service.
func (s *Server) Subscribe(t testing.TB) Subscription {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := &Subscription{
		Endpoint: s.URL + "/push/" + strconv.Itoa(len(s.subs)+1),
		P256dh:   base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()),
		Auth:     base64.RawURLEncoding.EncodeToString(auth),
		priv:     priv, auth: auth,
	}
	s.subs[sub.Endpoint] = sub
	return *sub
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	endpoint := s.URL + r.URL.Path
	s.mu.Lock()
	sub := s.subs[endpoint]
	s.count[endpoint]++
	n := s.count[endpoint]
	s.mu.Unlock()
	m := Message{Endpoint: endpoint, Topic: r.Header.Get("Topic"), TTL: r.Header.Get("TTL"), At: time.Now()}
	body, err := io.ReadAll(r.Body)
	switch {
	case err != nil:
		m.Err, m.Cut = err, true
	case sub == nil || r.Method != http.MethodPost:
		m.Err = fmt.Errorf("%s %s: no such subscription", r.Method, r.URL.Path)
	default:
		m.VAPIDKey, m.Claims, m.Err = s.checkVAPID(r.Header.Get("Authorization"))
		if m.Err == nil {
			if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
				m.Err = fmt.Errorf("Content-Encoding %q, want aes128gcm", ce)
			} else {
				m.Plaintext, m.Err = Decrypt(sub, body)
			}
		}
	}
	m.Status = http.StatusCreated
	if m.Err != nil {
		m.Status = http.StatusBadRequest
	} else if s.Respond != nil {
		m.Status = s.Respond(endpoint, n)
	}
	s.Messages <- m
	w.WriteHeader(m.Status)
}

// checkVAPID verifies "vapid t=<JWT>, k=<public key>" (RFC 8292 section 3):
// an ES256 JWT signed by k, whose aud is this service's origin, whose exp
// is in the future and at most 24 hours away, and whose sub is a mailto:
// or https: contact.
func (s *Server) checkVAPID(h string) (string, Claims, error) {
	var c Claims
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		return "", c, fmt.Errorf("header %q is not \"vapid t=…, k=…\"", h)
	}
	var tok, key string
	for _, p := range strings.Split(rest, ",") {
		p = strings.TrimSpace(p)
		if v, ok := strings.CutPrefix(p, "t="); ok {
			tok = v
		} else if v, ok := strings.CutPrefix(p, "k="); ok {
			key = v
		}
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || key == "" {
		return key, c, errors.New("vapid header needs t=<JWT> and k=<key>")
	}
	if err := verifyES256(parts, key); err != nil {
		return key, c, err
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &hdr); err != nil || hdr.Alg != "ES256" {
		return key, c, fmt.Errorf("JWT header: alg %q, want ES256 (%v)", hdr.Alg, err)
	}
	if err := decodeSegment(parts[1], &c); err != nil {
		return key, c, fmt.Errorf("JWT claims: %w", err)
	}
	now := time.Now().Unix()
	switch {
	case c.Aud != s.URL:
		return key, c, fmt.Errorf("aud %q, want %q", c.Aud, s.URL)
	case c.Exp <= now || c.Exp > now+24*3600:
		return key, c, fmt.Errorf("exp %d not within the next 24 hours", c.Exp)
	case !strings.HasPrefix(c.Sub, "mailto:") && !strings.HasPrefix(c.Sub, "https:"):
		return key, c, fmt.Errorf("sub %q is not a mailto: or https: contact", c.Sub)
	}
	return key, c, nil
}

func verifyES256(parts []string, key string) error {
	raw, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil {
		return fmt.Errorf("k: %w", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return fmt.Errorf("k: %w", err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return errors.New("JWT signature is not 64 bytes of r||s")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return errors.New("JWT signature does not verify with k")
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Decrypt opens an aes128gcm body (RFC 8188) encrypted for sub as RFC 8291
// section 3 says: ECDH of the subscription's private key with the sender's
// key from the header, HKDF with the auth secret, then the content
// encryption key and nonce from the salt.
func Decrypt(sub *Subscription, body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("body shorter than the aes128gcm header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if len(body) < 21+idlen || idlen != 65 {
		return nil, fmt.Errorf("keyid of %d bytes, want the sender's 65-byte public key", idlen)
	}
	asPublic, ciphertext := body[21:21+idlen], body[21+idlen:]
	if uint32(len(ciphertext)) > rs {
		return nil, fmt.Errorf("more than one record (%d bytes, record size %d)", len(ciphertext), rs)
	}
	peer, err := ecdh.P256().NewPublicKey(asPublic)
	if err != nil {
		return nil, fmt.Errorf("sender key: %w", err)
	}
	secret, err := sub.priv.ECDH(peer)
	if err != nil {
		return nil, err
	}
	// RFC 8291 section 3.4: IKM from the ECDH secret and the auth secret.
	prkKey, _ := hkdf.Extract(sha256.New, secret, sub.auth)
	info := "WebPush: info\x00" + string(sub.priv.PublicKey().Bytes()) + string(asPublic)
	ikm, _ := hkdf.Expand(sha256.New, prkKey, info, 32)
	// RFC 8188 section 2.2/2.3: CEK and nonce from the salt.
	prk, _ := hkdf.Extract(sha256.New, ikm, salt)
	cek, _ := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	nonce, _ := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ciphertext, nil)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	// The last record ends with the delimiter 0x02 and then zero padding.
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 || plain[i] != 2 {
		return nil, errors.New("no last-record delimiter 0x02")
	}
	return plain[:i], nil
}
