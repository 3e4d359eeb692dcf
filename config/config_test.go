package config

import (
	"io"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad_EnvThenFlags(t *testing.T) {
	c, rest, err := Load([]string{"-addr", ":9090", "extra"}, env(map[string]string{
		"BIRJOB_ADDR": ":7070", "BIRJOB_KEEPALIVE": "5s", "BIRJOB_DEMO": "off", "BIRJOB_SCRAPE": "false",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9090" {
		t.Errorf("flag did not override env: addr %q", c.Addr)
	}
	if c.Keepalive != 5*time.Second || c.Demo != DemoOff || c.Scrape || !c.Web {
		t.Errorf("env not applied: %+v", c)
	}
	if c.RequireEmailVerification {
		t.Error("email verification is required by default; the default is false")
	}
	c, _, err = Load(nil, env(map[string]string{"BIRJOB_REQUIRE_EMAIL_VERIFICATION": "true"}), io.Discard)
	if err != nil || !c.RequireEmailVerification {
		t.Errorf("BIRJOB_REQUIRE_EMAIL_VERIFICATION=true not applied (%v)", err)
	}
	if c.BacklogMaxAge != DefaultBacklogMaxAge {
		t.Errorf("backlog max age = %s, want the default %s", c.BacklogMaxAge, DefaultBacklogMaxAge)
	}
	c, _, err = Load(nil, env(map[string]string{"BIRJOB_BACKLOG_MAX_AGE": "96h"}), io.Discard)
	if err != nil || c.BacklogMaxAge != 96*time.Hour {
		t.Errorf("BIRJOB_BACKLOG_MAX_AGE=96h: %s (%v)", c.BacklogMaxAge, err)
	}
	c, _, err = Load([]string{"-backlog-max-age", "1h"}, env(map[string]string{"BIRJOB_BACKLOG_MAX_AGE": "96h"}), io.Discard)
	if err != nil || c.BacklogMaxAge != time.Hour {
		t.Errorf("-backlog-max-age 1h over the env's 96h: %s (%v)", c.BacklogMaxAge, err)
	}
	if len(rest) != 1 || rest[0] != "extra" {
		t.Errorf("rest = %v", rest)
	}
}

func TestLoad_Invalid(t *testing.T) {
	for name, e := range map[string]map[string]string{
		"keepalive":      {"BIRJOB_KEEPALIVE": "soon"},
		"negative":       {"BIRJOB_KEEPALIVE": "-1s"},
		"demo":           {"BIRJOB_DEMO": "maybe"},
		"addr":           {"BIRJOB_ADDR": "8080"},
		"admin half":     {"BIRJOB_ADMIN_EMAIL": "a@b.c"},
		"admin short pw": {"BIRJOB_ADMIN_EMAIL": "a@b.c", "BIRJOB_ADMIN_PASSWORD": "short"},
		"db":             {"DATABASE_URL": "mysql://x"},
		"role":           {"BIRJOB_WEB": "perhaps"},
		"backlog age":    {"BIRJOB_BACKLOG_MAX_AGE": "two days"},
		"pause negative": {"BIRJOB_PAUSE_AFTER_FAILURES": "-1"},
		"pause word":     {"BIRJOB_PAUSE_AFTER_FAILURES": "ten"},
		"courier role":   {"BIRJOB_COURIER": "perhaps"},
		"vapid half":     {"BIRJOB_VAPID_PUBLIC_KEY": "BExyz"},
		"smtp scheme":    {"BIRJOB_SMTP_URL": "http://mail.example"},
		"digest hour":    {"BIRJOB_DIGEST_HOUR": "24"},
		"verification":   {"BIRJOB_REQUIRE_EMAIL_VERIFICATION": "sometimes"},
		"public url":     {"BIRJOB_PUBLIC_URL": "birjob.example"},
		"vapid subject":  {"BIRJOB_VAPID_SUBJECT": "admin@example.com"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := Load(nil, env(e), io.Discard)
			if err == nil {
				t.Fatalf("accepted %v", e)
			}
			named := false
			for k := range e {
				named = named || strings.Contains(err.Error(), k)
			}
			if !named {
				t.Errorf("error %q names none of %v", err, e)
			}
		})
	}
}

func TestPrint_HidesSecrets(t *testing.T) {
	c, _, err := Load(nil, env(map[string]string{
		"DATABASE_URL":          "postgres://bob:hunter22@db:5432/birjob",
		"BIRJOB_ADMIN_EMAIL":    "admin@example.com",
		"BIRJOB_ADMIN_PASSWORD": "topsecret1",
		"BIRJOB_SMTP_URL":       "smtp://mailer:smtpsecret9@mail.example:587",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	c.Print(&b)
	out := b.String()
	for _, secret := range []string{"hunter22", "topsecret1", "smtpsecret9"} {
		if strings.Contains(out, secret) {
			t.Errorf("config output leaks %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"DATABASE_URL=postgres://bob:xxxxx@db:5432/birjob", "BIRJOB_ADMIN_EMAIL=admin@example.com",
		"BIRJOB_ADDR=:8080", "BIRJOB_DATA_DIR=data", "BIRJOB_DEMO=auto", "BIRJOB_KEEPALIVE=25s", "BIRJOB_ADMIN_PASSWORD=(set)",
		"BIRJOB_COURIER=true", "BIRJOB_DIGEST_HOUR=8"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("config output lacks %q:\n%s", want, out)
		}
	}
}

func TestLoad_PauseAfterFailures(t *testing.T) {
	c, _, err := Load(nil, env(nil), io.Discard)
	if err != nil || c.PauseAfterFailures != DefaultPauseAfterFailures {
		t.Fatalf("default: %d %v", c.PauseAfterFailures, err)
	}
	c, _, err = Load([]string{"-pause-after-failures", "0"}, env(map[string]string{"BIRJOB_PAUSE_AFTER_FAILURES": "3"}), io.Discard)
	if err != nil || c.PauseAfterFailures != 0 {
		t.Fatalf("flag 0 over env 3: %d %v", c.PauseAfterFailures, err)
	}
}

// TestLoad_MaxStreams: the stream cap takes a whole number ≥ -1 and
// refuses anything else by name.
func TestLoad_MaxStreams(t *testing.T) {
	c, _, err := Load([]string{"-max-streams", "500"}, env(nil), io.Discard)
	if err != nil || c.MaxStreams != 500 {
		t.Fatalf("max-streams 500: %v %v", c.MaxStreams, err)
	}
	for _, bad := range []string{"-2", "many", "1.5"} {
		if _, _, err := Load(nil, env(map[string]string{"BIRJOB_MAX_STREAMS": bad}), io.Discard); err == nil || !strings.Contains(err.Error(), "BIRJOB_MAX_STREAMS") {
			t.Errorf("BIRJOB_MAX_STREAMS=%s: %v, want an error naming it", bad, err)
		}
	}
}
