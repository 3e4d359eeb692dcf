// Package smtptest is an SMTP server for tests (github.com/emersion/go-smtp
// on 127.0.0.1) that keeps every mail it accepts.
package smtptest

import (
	"io"
	"log"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Mail is one accepted message.
type Mail struct {
	From string
	To   []string
	Data []byte // the RFC 5322 message as received
	At   time.Time
}

// Server is the SMTP server; Mails receives every accepted message.
type Server struct {
	Addr  string // host:port
	Mails chan Mail
	// OnMail, when set before the first mail, is called with the count of
	// mails received so far, after a mail is received and before the
	// server answers that it accepted it.
	OnMail func(n int)
	srv    *smtp.Server
	count  atomic.Int64
}

// New starts a server on 127.0.0.1:0, closed when the test ends.
func New(t testing.TB) *Server {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: l.Addr().String(), Mails: make(chan Mail, 100000)}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{s: s}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.ErrorLog = log.New(io.Discard, "", 0) // a killed client's reset is expected
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	go s.srv.Serve(l)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// URL is the server's smtp:// URL.
func (s *Server) URL() string { return "smtp://" + s.Addr }

type session struct {
	s *Server
	m Mail
}

func (x *session) Reset()        { x.m = Mail{} }
func (x *session) Logout() error { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.m.From = from
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.m.To = append(x.m.To, to)
	return nil
}
func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.m.Data, x.m.At = b, time.Now()
	x.s.Mails <- x.m
	x.m = Mail{}
	if n := x.s.count.Add(1); x.s.OnMail != nil {
		x.s.OnMail(int(n))
	}
	return nil
}
