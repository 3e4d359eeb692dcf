package courier

import (
	"bytes"
	"context"
	"fmt"
	"net/url"

	"github.com/wneessen/go-mail"

	"github.com/birjob/birjob/storage"
)

// AccountMailer sends the mails of the account flows (confirm an address,
// reset a password) the way alert mails go: through BIRJOB_SMTP_URL when
// it is set, else into the outbox an admin reads at GET /api/admin/mail.
// Unlike alert mails they are sent at once by the node that serves the
// request (any web node, courier role or not): a person is waiting for
// them, and asks again when one does not come.
//
// The links point at the page (PublicURL/?verify=TOKEN, ?reset=TOKEN),
// which POSTs the token: opening a link changes nothing by itself, so a
// mail scanner that follows links spends no token.
type AccountMailer struct {
	store *storage.Store
	cfg   Config
	smtp  *mail.Client // nil: the outbox
}

// NewAccountMailer returns the mailer of cfg (PublicURL, SMTPURL,
// MailFrom); a bad SMTP URL is an error.
func NewAccountMailer(store *storage.Store, cfg Config) (*AccountMailer, error) {
	cfg.defaults()
	m := &AccountMailer{store: store, cfg: cfg}
	if cfg.SMTPURL != "" {
		sc, err := smtpClient(cfg.SMTPURL)
		if err != nil {
			return nil, err
		}
		m.smtp = sc
	}
	return m, nil
}

// MailVerification sends the link that confirms the address to.
func (m *AccountMailer) MailVerification(ctx context.Context, to, token string) error {
	link := m.cfg.PublicURL + "/?verify=" + url.QueryEscape(token)
	return m.send(ctx, to, "Confirm your email address for birjob", fmt.Sprintf(
		"Hello,\n\nsomeone (we hope you) signed up at birjob with this address. To confirm it, open:\n\n%s\n\n"+
			"The link works once, for 48 hours. If it was not you, ignore this mail.\n", link))
}

// MailPasswordReset sends the link that sets a new password.
func (m *AccountMailer) MailPasswordReset(ctx context.Context, to, token string) error {
	link := m.cfg.PublicURL + "/?reset=" + url.QueryEscape(token)
	return m.send(ctx, to, "Reset your birjob password", fmt.Sprintf(
		"Hello,\n\nsomeone (we hope you) asked to reset the password of your birjob account. To choose a new one, open:\n\n%s\n\n"+
			"The link works once, for 1 hour, and signs you out everywhere else. "+
			"If you did not ask, ignore this mail: your password stays as it is.\n", link))
}

func (m *AccountMailer) send(ctx context.Context, to, subject, text string) error {
	msg := mail.NewMsg()
	if err := msg.From(m.cfg.MailFrom); err != nil {
		return fmt.Errorf("BIRJOB_MAIL_FROM: %w", err)
	}
	if err := msg.To(to); err != nil {
		return fmt.Errorf("mail to %q: %w", to, err)
	}
	msg.Subject(subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(mail.TypeTextPlain, text)
	if m.smtp == nil {
		var buf bytes.Buffer
		if _, err := msg.WriteTo(&buf); err != nil {
			return err
		}
		return m.store.AddOutboxMail(ctx, to, subject, buf.String())
	}
	if err := m.smtp.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail to %s: %w", to, err)
	}
	return nil
}
