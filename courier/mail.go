package courier

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"

	"github.com/wneessen/go-mail"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// maxJobsPerMail caps the jobs one mail lists; a bigger group becomes
// several mails.
const maxJobsPerMail = 50

// sendMail sends a group of matches of one alert (instant or digest) as
// mails of at most maxJobsPerMail jobs each, and records the outcome.
func (c *Courier) sendMail(ctx context.Context, b *batch, group []storage.QueueItem) error {
	a, ok := b.alerts[group[0].AlertID]
	if !ok || a.Paused || a.Muted || a.Email == model.EmailOff || a.Email == "" {
		return c.store.Dequeue(ctx, ids(group)) // paused, muted or unsubscribed since
	}
	for len(group) > 0 {
		part := group[:min(len(group), maxJobsPerMail)]
		group = group[len(part):]
		if err := c.sendOneMail(ctx, a, part); err != nil {
			return err
		}
	}
	return nil
}

func (c *Courier) sendOneMail(ctx context.Context, a storage.CourierAlert, part []storage.QueueItem) error {
	msg, subject, err := c.compose(a, part)
	if err != nil {
		c.log.Warn("mail dropped", "alert_id", a.ID, "err", err)
		c.m.mailFailed.Inc()
		return c.store.Dequeue(ctx, ids(part))
	}
	c.hook()
	if c.smtp == nil {
		var buf bytes.Buffer
		if _, err := msg.WriteTo(&buf); err != nil {
			return err
		}
		// Kept and dequeued in one transaction: exactly once.
		err := c.store.Tx(ctx, func(tx *storage.Store) error {
			if err := tx.AddOutboxMail(ctx, a.To, subject, buf.String()); err != nil {
				return err
			}
			return tx.Dequeue(ctx, ids(part))
		})
		if err == nil {
			c.m.mailSent.Inc()
		}
		return err
	}
	sendErr := c.smtp.DialAndSendWithContext(ctx, msg)
	if sendErr != nil && ctx.Err() != nil {
		return ctx.Err() // stopped mid-send: the rows stay queued and go out again
	}
	ctx, cancel := recordCtx(ctx)
	defer cancel()
	if sendErr == nil {
		c.m.mailSent.Inc()
		return c.store.Dequeue(ctx, ids(part))
	}
	dropped, err := c.retry(ctx, part)
	if dropped {
		c.m.mailFailed.Inc()
		c.log.Warn("mail given up", "alert_id", a.ID, "err", sendErr)
	} else {
		c.m.mailRetried.Inc()
		c.log.Warn("mail failed, will retry", "alert_id", a.ID, "err", sendErr)
	}
	return err
}

// mailJob is one line of a mail.
type mailJob struct {
	Title, Where, URL string
}

// compose builds the mail of part: a plain-text part and an HTML
// alternative, List-Unsubscribe with the one-click https link (RFC 8058),
// and a Message-ID made of the first queue row's id, so that a mail sent
// again after a crash carries the same id.
func (c *Courier) compose(a storage.CourierAlert, part []storage.QueueItem) (*mail.Msg, string, error) {
	jobs := make([]mailJob, 0, len(part))
	for _, it := range part {
		var ev model.JobEvent
		if err := json.Unmarshal(it.Data, &ev); err != nil {
			return nil, "", fmt.Errorf("event %d: %w", it.EventID, err)
		}
		jobs = append(jobs, mailJob{Title: ev.Title, Where: strings.Join(nonEmpty(ev.Company, ev.Location), ", "), URL: ev.URL})
	}
	name := a.Name
	if name == "" {
		name = "your alert"
	}
	subject := fmt.Sprintf("New job for %s: %s", name, jobs[0].Title)
	if len(jobs) > 1 {
		subject = fmt.Sprintf("%d new jobs for %s", len(jobs), name)
	}
	if part[0].Kind == storage.CourierDigest {
		subject = fmt.Sprintf("Daily digest: %d new job(s) for %s", len(jobs), name)
	}
	unsub := UnsubscribeURL(c.cfg.PublicURL, c.keys.UnsubscribeKey, a.ID)
	text, html, err := mailBodies(name, jobs, unsub, c.cfg.PublicURL)
	if err != nil {
		return nil, "", err
	}
	m := mail.NewMsg()
	if err := m.From(c.cfg.MailFrom); err != nil {
		return nil, "", fmt.Errorf("BIRJOB_MAIL_FROM: %w", err)
	}
	if err := m.To(a.To); err != nil {
		return nil, "", fmt.Errorf("address of user %d: %w", a.UserID, err)
	}
	m.Subject(subject)
	m.SetDate()
	m.SetMessageIDWithValue(fmt.Sprintf("birjob.%s.%d.%d@%s", part[0].Kind, a.ID, part[0].ID, mailDomain(c.cfg.MailFrom)))
	m.SetGenHeaderPreformatted("List-Unsubscribe", "<"+unsub+">")
	m.SetGenHeaderPreformatted("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	m.SetGenHeader("X-Birjob-Alert", strconv.FormatInt(a.ID, 10))
	m.SetBodyString(mail.TypeTextPlain, text)
	m.AddAlternativeString(mail.TypeTextHTML, html)
	return m, subject, nil
}

func mailDomain(from string) string {
	if _, d, ok := strings.Cut(from, "@"); ok {
		return strings.Trim(d, "> ")
	}
	return "birjob"
}

var htmlMail = template.Must(template.New("mail").Parse(`<!doctype html>
<html><body style="font-family:sans-serif">
<p>New jobs for <b>{{.Name}}</b>:</p>
<ul>{{range .Jobs}}<li><a href="{{.URL}}">{{.Title}}</a>{{if .Where}} — {{.Where}}{{end}}</li>{{end}}</ul>
<p><a href="{{.Page}}">Open birjob</a> · <a href="{{.Unsub}}">Stop these mails</a></p>
</body></html>`))

// mailBodies renders the text and HTML parts.
func mailBodies(name string, jobs []mailJob, unsub, page string) (string, string, error) {
	var t strings.Builder
	fmt.Fprintf(&t, "New jobs for %s:\n\n", name)
	for _, j := range jobs {
		t.WriteString("* " + j.Title)
		if j.Where != "" {
			t.WriteString(" — " + j.Where)
		}
		t.WriteString("\n  " + j.URL + "\n")
	}
	fmt.Fprintf(&t, "\nOpen birjob: %s/\nStop these mails: %s\n", page, unsub)
	var h bytes.Buffer
	err := htmlMail.Execute(&h, map[string]any{"Name": name, "Jobs": safeJobs(jobs), "Unsub": unsub, "Page": page + "/"})
	return t.String(), h.String(), err
}

// safeJobs drops links that are not http(s) from the HTML part (a job's
// URL comes from a scraped board).
func safeJobs(jobs []mailJob) []mailJob {
	out := make([]mailJob, len(jobs))
	for i, j := range jobs {
		if u, err := url.Parse(j.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			j.URL = ""
		}
		out[i] = j
	}
	return out
}
