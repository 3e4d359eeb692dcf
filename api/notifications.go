package api

import (
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/courier"
	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// The routes of alerts that reach people when the page is closed (see
// package courier): the VAPID public key, the user's push subscriptions
// (one per browser), the user's time zone for the daily digest, the
// one-click unsubscribe link of mails, and the admin's view of the mail
// outbox.

// MaxPushSubscriptions is how many browsers one account may register.
const MaxPushSubscriptions = 20

// notifications is the state of these routes.
type notifications struct {
	cfg  courier.Config
	mu   sync.Mutex
	keys *storage.CourierKeys
}

// WithNotifications sets the courier configuration the push and mail
// routes follow (allowed endpoints, VAPID keys given by configuration).
func (s *Server) WithNotifications(cfg courier.Config) *Server {
	s.notif = &notifications{cfg: cfg}
	return s
}

func (s *Server) notificationRoutes(mux *http.ServeMux) {
	if s.notif == nil {
		s.notif = &notifications{}
	}
	mux.HandleFunc("GET /api/push/key", s.pushKey)
	mux.HandleFunc("GET /api/push/subscriptions", s.listPushSubscriptions)
	mux.HandleFunc("POST /api/push/subscriptions", s.createPushSubscription)
	mux.HandleFunc("DELETE /api/push/subscriptions/{id}", s.deletePushSubscription)
	mux.HandleFunc("GET /api/me/notifications", s.getNotificationSettings)
	mux.HandleFunc("PUT /api/me/notifications", s.putNotificationSettings)
	mux.HandleFunc("GET /api/unsubscribe", s.unsubscribePage)
	mux.HandleFunc("POST /api/unsubscribe", s.unsubscribe)
	mux.HandleFunc("GET /api/admin/mail", s.adminMail)
}

// courierKeys returns the cluster's courier keys, read (or made) once.
func (s *Server) courierKeys(ctx context.Context) (storage.CourierKeys, error) {
	n := s.notif
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.keys != nil {
		return *n.keys, nil
	}
	k, err := courier.Keys(ctx, s.store, n.cfg)
	if err != nil {
		return k, err
	}
	n.keys = &k
	return k, nil
}

// checkAlert validates an alert's criteria and email mode.
func (s *Server) checkAlert(a *model.Alert) error {
	if err := model.CheckEmailMode(a.Email); err != nil {
		return err
	}
	if a.Email == "" {
		a.Email = model.EmailOff
	}
	return s.checkCriteria(&a.Criteria)
}

// pushKey answers GET /api/push/key: the VAPID public key the page passes
// to pushManager.subscribe as applicationServerKey.
func (s *Server) pushKey(w http.ResponseWriter, r *http.Request) {
	k, err := s.courierKeys(r.Context())
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"publicKey": k.VAPIDPublic})
}

func (s *Server) listPushSubscriptions(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.RequireUser(w, r)
	if !ok {
		return
	}
	subs, err := s.store.ListPushSubscriptions(r.Context(), p.UserID)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"subscriptions": subs})
}

// pushSubscriptionIn is a PushSubscription's toJSON(), as the page sends it.
type pushSubscriptionIn struct {
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256dh string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

func (s *Server) createPushSubscription(w http.ResponseWriter, r *http.Request) {
	p, ok := s.requireVerified(w, r)
	if !ok {
		return
	}
	var in pushSubscriptionIn
	if !httpx.DecodeJSON(w, r, &in) {
		return
	}
	sub, err := checkPushSubscription(in, s.notif.cfg.AllowPrivate)
	if err != nil {
		httpx.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	existing, err := s.store.ListPushSubscriptions(r.Context(), p.UserID)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	if len(existing) >= MaxPushSubscriptions && !hasEndpoint(existing, sub.Endpoint) {
		httpx.Errorf(w, http.StatusConflict, "push is on in %d browsers, the most one account may have; remove one first", len(existing))
		return
	}
	sub.UserID = p.UserID
	sub.UserAgent = clipString(r.UserAgent(), 300)
	out, err := s.store.SavePushSubscription(r.Context(), sub)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, out)
}

func hasEndpoint(subs []storage.PushSubscription, endpoint string) bool {
	for _, s := range subs {
		if s.Endpoint == endpoint {
			return true
		}
	}
	return false
}

// checkPushSubscription checks what a browser sent: an allowed endpoint, a
// P-256 public key and a 16-byte auth secret (base64url, with or without
// padding).
func checkPushSubscription(in pushSubscriptionIn, allowPrivate bool) (storage.PushSubscription, error) {
	if err := courier.CheckEndpoint(in.Endpoint, allowPrivate); err != nil {
		return storage.PushSubscription{}, err
	}
	key, err := decodeB64URL(in.Keys.P256dh)
	if err == nil {
		_, err = ecdh.P256().NewPublicKey(key)
	}
	if err != nil {
		return storage.PushSubscription{}, errors.New("keys.p256dh must be the subscription's P-256 public key, base64url (PushSubscription.toJSON())")
	}
	if auth, err := decodeB64URL(in.Keys.Auth); err != nil || len(auth) != 16 {
		return storage.PushSubscription{}, errors.New("keys.auth must be the subscription's 16-byte auth secret, base64url (PushSubscription.toJSON())")
	}
	return storage.PushSubscription{Endpoint: in.Endpoint, P256dh: in.Keys.P256dh, Auth: in.Keys.Auth}, nil
}

func decodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func clipString(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "")
	}
	return s
}

func (s *Server) deletePushSubscription(w http.ResponseWriter, r *http.Request) {
	p, id, ok := userAndID(w, r)
	if !ok {
		return
	}
	if s.notFound(w, r, s.store.DeletePushSubscription(r.Context(), p.UserID, id), "push subscription") {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// notificationSettings are a user's settings of mails and pushes.
type notificationSettings struct {
	// TimeZone is an IANA name ("Asia/Baku"); the digest goes out at the
	// configured hour of it.
	TimeZone string `json:"timeZone"`
}

func (s *Server) getNotificationSettings(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.RequireUser(w, r)
	if !ok {
		return
	}
	tz, err := s.store.UserTimeZone(r.Context(), p.UserID)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, notificationSettings{TimeZone: tz})
}

func (s *Server) putNotificationSettings(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.RequireUser(w, r)
	if !ok {
		return
	}
	var in notificationSettings
	if !httpx.DecodeJSON(w, r, &in) {
		return
	}
	if _, err := time.LoadLocation(in.TimeZone); err != nil || in.TimeZone == "" || in.TimeZone == "Local" || len(in.TimeZone) > 64 {
		httpx.Errorf(w, http.StatusBadRequest, "timeZone %q is not an IANA time zone name like \"Asia/Baku\" or \"UTC\"", in.TimeZone)
		return
	}
	if err := s.store.SetUserTimeZone(r.Context(), p.UserID, in.TimeZone); err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, in)
}

// outboxPage is how many mails one GET /api/admin/mail answers.
const outboxPage = 50

// outboxMail is a mail of the outbox as the admin reads it: the stored
// message and, taken apart, its kind (alert, digest, account) and its
// plain-text and HTML parts.
type outboxMail struct {
	storage.OutboxMail
	Kind string `json:"kind,omitempty"`
	Text string `json:"text"`
	HTML string `json:"html,omitempty"`
}

// adminMail answers GET /api/admin/mail[?before=<id>]: the newest mails
// of the outbox (kept there when no SMTP server is configured), a page at
// a time, for an admin. "smtp" says whether this node sends mail (then
// the outbox only holds what was kept before); "next", when there is
// more, is the before of the next page.
func (s *Server) adminMail(w http.ResponseWriter, r *http.Request) {
	if _, ok := auth.RequireAdmin(w, r); !ok {
		return
	}
	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			httpx.Error(w, http.StatusBadRequest, "before must be a mail's id")
			return
		}
		before = n
	}
	mails, err := s.store.ListOutboxMail(r.Context(), before, outboxPage+1)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	out := map[string]any{"smtp": s.notif.cfg.SMTPURL != ""}
	if len(mails) > outboxPage {
		mails = mails[:outboxPage]
		out["next"] = mails[outboxPage-1].ID
	}
	list := make([]outboxMail, 0, len(mails))
	for _, m := range mails {
		p := courier.ReadOutboxMail(m.Message)
		list = append(list, outboxMail{OutboxMail: m, Kind: p.Kind, Text: p.Text, HTML: p.HTML})
	}
	out["mails"] = list
	httpx.WriteJSON(w, http.StatusOK, out)
}

var unsubscribeHTML = template.Must(template.New("unsub").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>birjob: stop mails</title></head>
<body style="font-family:sans-serif;max-width:36em;margin:3em auto">
{{if .Error}}<p>{{.Error}}</p>
{{else if .Done}}<p>Done: no more mails for the alert “{{.Name}}”. You can turn them on again on the alerts page.</p>
{{else}}<form method="post"><p>Stop mails for the alert “{{.Name}}”?</p><button type="submit">Stop mails</button></form>
{{end}}<p><a href="/">birjob</a></p></body></html>`))

// unsubscribeAlert reads the alert of the request's signed token t.
func (s *Server) unsubscribeAlert(r *http.Request) (storage.CourierAlert, int, error) {
	k, err := s.courierKeys(r.Context())
	if err != nil {
		return storage.CourierAlert{}, http.StatusInternalServerError, err
	}
	id, err := courier.ParseUnsubscribeToken(k.UnsubscribeKey, r.URL.Query().Get("t"))
	if err != nil {
		return storage.CourierAlert{}, http.StatusBadRequest, err
	}
	alerts, err := s.store.CourierAlerts(r.Context(), []int64{id})
	if err != nil {
		return storage.CourierAlert{}, http.StatusInternalServerError, err
	}
	a, ok := alerts[id]
	if !ok {
		return a, http.StatusNotFound, errors.New("this alert no longer exists: nothing more will be mailed for it")
	}
	return a, http.StatusOK, nil
}

// unsubscribePage answers GET /api/unsubscribe?t=…: a page that asks to
// confirm (a link scanner that follows the link changes nothing).
func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	a, status, err := s.unsubscribeAlert(r)
	data := map[string]any{"Name": a.Name}
	if err != nil {
		data["Error"] = err.Error()
		if status == http.StatusInternalServerError {
			httpx.ServerError(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	unsubscribeHTML.Execute(w, data)
}

// unsubscribe answers POST /api/unsubscribe?t=…, the one-click
// unsubscribe of RFC 8058 (body List-Unsubscribe=One-Click) and the
// confirm page's form: the alert's email becomes off.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	a, status, err := s.unsubscribeAlert(r)
	if err == nil {
		err = s.store.SetAlertEmail(r.Context(), a.ID, model.EmailOff)
		status = http.StatusInternalServerError
	}
	html := strings.Contains(r.Header.Get("Accept"), "text/html")
	switch {
	case err != nil && status == http.StatusInternalServerError:
		httpx.ServerError(w, r, err)
	case err != nil && !html:
		httpx.Error(w, status, err.Error())
	case err != nil:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		unsubscribeHTML.Execute(w, map[string]any{"Error": err.Error()})
	case html:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		unsubscribeHTML.Execute(w, map[string]any{"Name": a.Name, "Done": true})
	default:
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"alert": a.ID, "email": model.EmailOff})
	}
}
