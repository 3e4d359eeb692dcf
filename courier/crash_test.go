package courier

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/internal/pushtest"
	"github.com/birjob/birjob/internal/smtptest"
	"github.com/birjob/birjob/model"
)

// childEnv carries the crash test's childSpec to a child process, which
// then runs a courier instead of the tests.
const childEnv = "BIRJOB_COURIER_CHILD"

type childSpec struct {
	DB   string `json:"db"`
	SMTP string `json:"smtp"`
}

// runChild runs a courier until the process is killed.
func runChild() {
	var spec childSpec
	if err := json.Unmarshal([]byte(os.Getenv(childEnv)), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	pool, err := pgxpool.New(context.Background(), spec.DB)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	cfg := testConfig()
	cfg.SMTPURL = spec.SMTP
	c, err := New(pool, cfg, slog.New(slog.NewTextHandler(os.Stderr, nil)), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	c.Run(context.Background())
	os.Exit(0)
}

// child is a courier process of the crash test.
type child struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	exited chan struct{}
}

func startChild(t *testing.T, spec childSpec) *child {
	t.Helper()
	b, _ := json.Marshal(spec)
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^$"), exited: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	c.cmd.Stderr = &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() { c.cmd.Process.Kill(); <-c.exited })
	return c
}

// waitKilled waits for the child's SIGKILL (sent by the push service or
// the SMTP server when the burst is half through).
func (c *child) waitKilled(t *testing.T, what string) {
	t.Helper()
	select {
	case <-c.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("courier process not killed during %s; its log:\n%s", what, c.stderr.String())
	}
	if ws := c.cmd.ProcessState; ws == nil || ws.String() != "signal: killed" {
		t.Fatalf("courier process ended with %v, not by SIGKILL; its log:\n%s", ws, c.stderr.String())
	}
}

// A courier process killed with SIGKILL in the middle of a burst of 1,000
// matches (once while pushing, once while mailing): after the restarts
// every match was pushed and mailed, and at most the groups in flight at
// each kill (Senders of them) went out twice.
func TestCrash_KilledMidBurstLosesNothing(t *testing.T) {
	const users, perUser, killAt = 100, 10, 30
	f := newFixture(t)
	ps, smtpd := pushtest.New(t), smtptest.New(t)
	var current atomic.Pointer[child]
	var pushes atomic.Int64
	ps.Respond = func(string, int) int {
		if pushes.Add(1) == killAt {
			current.Load().cmd.Process.Kill() // before the answer: sent, not recorded
		}
		return 201
	}
	smtpd.OnMail = func(n int) {
		if n == killAt {
			current.Load().cmd.Process.Kill()
		}
	}
	var evs []model.Event
	for u := range users {
		id := f.user(fmt.Sprintf("user%d@example.com", u))
		a := f.alert(id, fmt.Sprintf("alert %d", u), model.EmailInstant, false)
		sub := ps.Subscribe(t)
		f.subscribe(id, sub.Endpoint, sub.P256dh, sub.Auth)
		for j := range perUser {
			n := int64(j*users + u + 1)
			data, _ := json.Marshal(job(n, fmt.Sprintf("Job %d", n), a))
			evs = append(evs, model.Event{Channel: model.UserChannel(id), Type: model.EventNewJob, Data: data})
		}
	}
	for i := 0; i < len(evs); i += 100 {
		if _, err := f.store.AppendEvents(f.ctx, evs[i:i+100]...); err != nil {
			t.Fatal(err)
		}
	}
	spec := childSpec{DB: f.url, SMTP: smtpd.URL()}
	current.Store(startChild(t, spec))
	current.Load().waitKilled(t, "the pushes")
	current.Store(startChild(t, spec))
	current.Load().waitKilled(t, "the mails")
	if pushes.Load() < users {
		t.Fatalf("only %d pushes before the second kill; want all pushed before mailing", pushes.Load())
	}
	cfg := testConfig()
	cfg.SMTPURL = smtpd.URL()
	r := f.start(cfg, nil)
	f.idle(r, 60*time.Second)
	if n, _ := f.store.QueueLen(f.ctx); n != 0 {
		t.Fatalf("%d rows left queued", n)
	}
	checkPushes(t, ps, users, perUser, r.cfg.Senders)
	checkMails(t, smtpd, users*perUser, r.cfg.Senders)
}

// checkPushes: every subscription got pushes counting at least its
// matches, and at most senders pushes went out twice.
func checkPushes(t *testing.T, ps *pushtest.Server, users, perUser, senders int) {
	t.Helper()
	counts := map[string]int{}
	extra := 0
	for len(ps.Messages) > 0 {
		m := <-ps.Messages
		if m.Cut {
			continue // a request the killed process did not finish: not delivered
		}
		counts[m.Endpoint] += payloadOf(t, m).Count
	}
	if len(counts) != users {
		t.Errorf("%d subscriptions got pushes, want %d", len(counts), users)
	}
	for ep, n := range counts {
		if n < perUser {
			t.Errorf("%s: pushes count %d matches, want %d", ep, n, perUser)
		}
		if n > perUser {
			extra++
		}
	}
	t.Logf("pushes: %d subscriptions got a group twice", extra)
	if extra > senders {
		t.Errorf("%d groups pushed twice, more than the %d in flight at the kill", extra, senders)
	}
}

var jobURL = regexp.MustCompile(`https://jobs\.example/(\d+)`)

// checkMails: every job was mailed, and at most senders mails went out
// twice.
func checkMails(t *testing.T, smtpd *smtptest.Server, jobs, senders int) {
	t.Helper()
	seen := map[string]int{}
	mails, twice := 0, 0
	for len(smtpd.Mails) > 0 {
		m := parseMail(t, (<-smtpd.Mails).Data)
		mails++
		dup := false
		for _, u := range jobURL.FindAllStringSubmatch(m.parts["text/plain"], -1) {
			seen[u[1]]++
			dup = dup || seen[u[1]] > 1
		}
		if dup {
			twice++
		}
	}
	if len(seen) != jobs {
		t.Errorf("%d jobs mailed, want %d", len(seen), jobs)
	}
	t.Logf("mails: %d, %d of them again", mails, twice)
	if twice > senders {
		t.Errorf("%d mails went out twice, more than the %d in flight at the kill", twice, senders)
	}
}
