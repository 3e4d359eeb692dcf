package courier

import (
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/birjob/birjob/internal/smtptest"
	"github.com/birjob/birjob/model"
)

// parsedMail is a received mail, decoded.
type parsedMail struct {
	header mail.Header
	parts  map[string]string // content type → decoded body
}

func parseMail(t *testing.T, raw []byte) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("mail: %v\n%s", err, raw)
	}
	out := parsedMail{header: msg.Header, parts: map[string]string{}}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("Content-Type %q, want multipart: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = p // quoted-printable is decoded by NextPart
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			r = base64.NewDecoder(base64.StdEncoding, p)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out.parts[ct] = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	return out
}

func (m parsedMail) subject(t *testing.T) string {
	s, err := new(mime.WordDecoder).DecodeHeader(m.header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkHeaders checks what every mail must carry: a text part, one-click
// List-Unsubscribe to birjob, and the recipient.
func checkHeaders(t *testing.T, m parsedMail, to, base string) string {
	t.Helper()
	if got := m.header.Get("To"); !strings.Contains(got, to) {
		t.Errorf("To = %q, want %s", got, to)
	}
	lu := m.header.Get("List-Unsubscribe")
	if !strings.HasPrefix(lu, "<"+base+"/api/unsubscribe?t=") || !strings.HasSuffix(lu, ">") {
		t.Errorf("List-Unsubscribe = %q, want <%s/api/unsubscribe?t=…>", lu, base)
	}
	if got := m.header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", got)
	}
	if m.parts["text/plain"] == "" || m.parts["text/html"] == "" {
		t.Errorf("parts %v, want text/plain and text/html", keys(m.parts))
	}
	return strings.Trim(lu, "<>")
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Instant mail for a match, one digest for several at the user's hour,
// nothing for a paused alert or one that is off (or switched off between
// the match and the digest hour).
func TestMail_InstantDigestPausedAndOff(t *testing.T) {
	f := newFixture(t)
	smtpd := smtptest.New(t)
	const site = "https://birjob.example"

	ann := f.user("ann@example.com")
	if err := f.store.SetUserTimeZone(f.ctx, ann, "Asia/Baku"); err != nil { // UTC+4
		t.Fatal(err)
	}
	goA := f.alert(ann, "Go", model.EmailInstant, false)
	rust := f.alert(ann, "Rust", model.EmailDaily, false)
	php := f.alert(ann, "PHP", model.EmailInstant, true)
	java := f.alert(ann, "Java", model.EmailOff, false)
	clk := &clock{}
	clk.set(time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)) // 11:00 in Baku
	cfg := testConfig()
	cfg.SMTPURL, cfg.PublicURL = smtpd.URL(), site
	r := f.start(cfg, func(c *Courier) { c.now = clk.now })

	f.match(ann, job(1, "Go developer", goA, rust, php, java))
	m := parseMail(t, recv(t, smtpd.Mails, wait, "instant mail").Data)
	unsub := checkHeaders(t, m, "ann@example.com", site)
	if s := m.subject(t); s != "New job for Go: Go developer" {
		t.Errorf("subject %q", s)
	}
	if txt := m.parts["text/plain"]; !strings.Contains(txt, "Go developer") || !strings.Contains(txt, "https://jobs.example/1") {
		t.Errorf("text part lacks the job:\n%s", txt)
	}

	f.match(ann, job(2, "Rust dev 2", rust), job(3, "Rust dev 3", rust), job(4, "Go and Rust", goA, rust))
	if s := parseMail(t, recv(t, smtpd.Mails, wait, "second instant mail").Data).subject(t); s != "New job for Go: Go and Rust" {
		t.Errorf("subject %q", s)
	}
	f.idle(r, wait)

	// 07:59 in Baku: no digest yet.
	clk.set(time.Date(2026, 12, 5, 3, 59, 0, 0, time.UTC))
	f.wake()
	f.idle(r, wait)
	if n := len(smtpd.Mails); n != 0 {
		t.Fatalf("%d mails before the digest hour: %s", n, parseMail(t, (<-smtpd.Mails).Data).subject(t))
	}
	clk.set(time.Date(2026, 12, 5, 4, 0, 1, 0, time.UTC))
	f.wake()
	d := parseMail(t, recv(t, smtpd.Mails, wait, "digest").Data)
	checkHeaders(t, d, "ann@example.com", site)
	if s := d.subject(t); s != "Daily digest: 4 new job(s) for Rust" {
		t.Errorf("digest subject %q", s)
	}
	for _, u := range []string{"/1\n", "/2\n", "/3\n", "/4\n"} {
		if !strings.Contains(d.parts["text/plain"], "https://jobs.example"+u) {
			t.Errorf("digest lacks job %s:\n%s", u, d.parts["text/plain"])
		}
	}
	f.idle(r, wait)

	// Switched off after the match but before the send: dropped unsent.
	// (The unsubscribe link's own test is api's TestUnsubscribe_ByLink.)
	if err := f.store.SetAlertEmail(f.ctx, rust, model.EmailOff); err != nil {
		t.Fatal(err)
	}
	f.match(ann, job(5, "Rust developer 5", rust))
	clk.set(time.Date(2026, 12, 6, 4, 0, 1, 0, time.UTC))
	f.wake()
	f.idle(r, wait)
	if unsub == "" {
		t.Error("no unsubscribe link")
	}
	f.match(ann, job(6, "Go developer 6", php, java))
	f.idle(r, wait)
	if n := len(smtpd.Mails); n != 0 {
		t.Errorf("%d mails for an alert switched off, paused or off", n)
	}
	if n, _ := f.store.QueueLen(f.ctx); n != 0 {
		t.Errorf("%d rows left queued", n)
	}
}

// With no SMTP server configured the mail is kept in the outbox.
func TestMail_OutboxWithoutSMTP(t *testing.T) {
	f := newFixture(t)
	ann := f.user("ann@example.com")
	a := f.alert(ann, "Go", model.EmailInstant, false)
	r := f.start(testConfig(), nil)
	f.match(ann, job(1, "Go developer", a))
	f.idle(r, wait)
	mails, err := f.store.ListOutboxMail(f.ctx, 0, 10)
	if err != nil || len(mails) != 1 {
		t.Fatalf("outbox = %+v, %v; want one mail", mails, err)
	}
	m := parseMail(t, []byte(mails[0].Message))
	checkHeaders(t, m, "ann@example.com", "http://127.0.0.1:9")
	if mails[0].To != "ann@example.com" || mails[0].Subject != "New job for Go: Go developer" {
		t.Errorf("outbox mail %q to %q", mails[0].Subject, mails[0].To)
	}
	// The admin's outbox page reads it taken apart.
	parts := ReadOutboxMail(mails[0].Message)
	if parts.Kind != MailKindAlert || !strings.Contains(parts.Text, "Go developer") ||
		!strings.Contains(parts.HTML, "<a ") || parts.Text != m.parts["text/plain"] {
		t.Errorf("read back: kind %q, text %q, html %q", parts.Kind, parts.Text, parts.HTML)
	}
}
