package courier

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Kinds of mail, as the admin's outbox names them.
const (
	MailKindAlert   = "alert"   // an instant mail of an alert's matches
	MailKindDigest  = "digest"  // an alert's daily digest
	MailKindAccount = "account" // a confirmation or password-reset link
)

// maxOutboxPart bounds a part read from a stored message (the courier
// writes far smaller ones).
const maxOutboxPart = 1 << 20

// OutboxParts is what the admin reads of a mail kept in the outbox: its
// kind and its decoded plain-text and HTML parts ("" when absent or
// unreadable).
type OutboxParts struct {
	Kind string
	Text string
	HTML string
}

// ReadOutboxMail takes a mail the courier wrote (the RFC 5322 message of
// the outbox table) apart. Its kind follows the headers compose sets: an
// alert's mail carries X-Birjob-Alert and a Message-ID naming its queue
// kind; account mails carry neither.
func ReadOutboxMail(raw string) OutboxParts {
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		return OutboxParts{}
	}
	var out OutboxParts
	switch {
	case msg.Header.Get("X-Birjob-Alert") == "":
		out.Kind = MailKindAccount
	case strings.HasPrefix(strings.Trim(msg.Header.Get("Message-Id"), "<>"), "birjob.digest."):
		out.Kind = MailKindDigest
	default:
		out.Kind = MailKindAlert
	}
	readPart(&out, headerOf(msg.Header), msg.Body, 0)
	return out
}

// headerOf gives the two fields readPart needs of a message's or a part's
// header (mail.Header, textproto.MIMEHeader).
func headerOf(h interface{ Get(string) string }) partHeader {
	return partHeader{ctype: h.Get("Content-Type"), cte: h.Get("Content-Transfer-Encoding")}
}

type partHeader struct{ ctype, cte string }

// readPart fills out's text and HTML from one part, descending into
// multipart ones (not deeper than the courier nests).
func readPart(out *OutboxParts, h partHeader, body io.Reader, depth int) {
	mt, params, err := mime.ParseMediaType(h.ctype)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		if depth > 3 || params["boundary"] == "" {
			return
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			readPart(out, headerOf(p.Header), p, depth+1)
		}
	}
	var r io.Reader = io.LimitReader(body, maxOutboxPart)
	switch strings.ToLower(strings.TrimSpace(h.cte)) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	}
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return
	}
	s := strings.ReplaceAll(b.String(), "\r\n", "\n")
	switch {
	case mt == "text/plain" && out.Text == "":
		out.Text = s
	case mt == "text/html" && out.HTML == "":
		out.HTML = s
	}
}
