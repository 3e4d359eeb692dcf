package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/birjob/birjob/config"
)

// loadCompose loads docker-compose.yml the way `docker compose` does
// (compose-go: interpolation, anchors and merges, profiles, validation),
// with an empty environment so that defaults are what is checked.
func loadCompose(t *testing.T, profiles ...string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"../../docker-compose.yml"},
		cli.WithWorkingDirectory("../.."), cli.WithName("birjob"), cli.WithEnv(nil),
		cli.WithProfiles(profiles), cli.WithInterpolation(true))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	return p
}

// birjobNodes are the services built from the repository's Dockerfile.
func birjobNodes(p *types.Project) []string {
	var names []string
	for name, s := range p.Services {
		if s.Build != nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// No Docker engine runs where the tests run, so the compose file is loaded
// with compose-go and checked for what `docker compose up` relies on.
func TestDeploy_ComposeFile(t *testing.T) {
	p := loadCompose(t)
	pg, ok := p.Services["postgres"]
	if !ok {
		t.Fatal("no postgres service")
	}
	if !strings.HasPrefix(pg.Image, "postgres:") {
		t.Errorf("postgres image = %q", pg.Image)
	}
	if pg.HealthCheck == nil || !strings.Contains(strings.Join(pg.HealthCheck.Test, " "), "pg_isready") {
		t.Errorf("postgres has no pg_isready health check: %+v", pg.HealthCheck)
	}
	if len(pg.Volumes) == 0 || pg.Volumes[0].Type != types.VolumeTypeVolume || pg.Volumes[0].Target != "/var/lib/postgresql/data" {
		t.Errorf("postgres data is not on a named volume: %+v", pg.Volumes)
	} else if _, ok := p.Volumes[pg.Volumes[0].Source]; !ok {
		t.Errorf("volume %q is not declared", pg.Volumes[0].Source)
	}

	nodes := birjobNodes(p)
	if len(nodes) != 2 {
		t.Fatalf("birjob nodes %v, want two", nodes)
	}
	known := map[string]bool{}
	for _, line := range strings.Split(printConfig(t), "\n") {
		if k, _, ok := strings.Cut(line, "="); ok {
			known[k] = true
		}
	}
	scrapers := 0
	for _, name := range nodes {
		n := p.Services[name]
		if d := n.DependsOn["postgres"]; d.Condition != types.ServiceConditionHealthy {
			t.Errorf("%s does not wait for a healthy postgres: %+v", name, n.DependsOn)
		}
		if n.HealthCheck == nil || !strings.Contains(strings.Join(n.HealthCheck.Test, " "), "healthcheck") {
			t.Errorf("%s has no health check (birjob healthcheck): %+v", name, n.HealthCheck)
		}
		for k := range n.Environment {
			if !known[k] {
				t.Errorf("%s sets %s, which birjob does not read", name, k)
			}
		}
		env := func(k string) string {
			if v := n.Environment[k]; v != nil {
				return *v
			}
			return ""
		}
		m := regexp.MustCompile(`^postgres://([^:]+):([^@]+)@([^:/]+):5432/(\w+)`).FindStringSubmatch(env("DATABASE_URL"))
		if m == nil || m[3] != "postgres" || m[1] != *pg.Environment["POSTGRES_USER"] || m[2] != *pg.Environment["POSTGRES_PASSWORD"] || m[4] != *pg.Environment["POSTGRES_DB"] {
			t.Errorf("%s: DATABASE_URL %q does not match the postgres service", name, env("DATABASE_URL"))
		}
		if env("BIRJOB_WEB") != "true" {
			t.Errorf("%s is not a web node (BIRJOB_WEB=%q): Caddy sends clients to it", name, env("BIRJOB_WEB"))
		}
		for _, role := range []string{"BIRJOB_WEB", "BIRJOB_SCRAPE", "BIRJOB_MATCH"} {
			if v := env(role); v != "true" && v != "false" {
				t.Errorf("%s: %s=%q; state every role", name, role, v)
			}
		}
		if env("BIRJOB_SCRAPE") == "true" {
			scrapers++
		}
		if len(n.Ports) != 0 {
			t.Errorf("%s publishes ports %v: clients come through Caddy", name, n.Ports)
		}
	}
	if scrapers != 1 {
		t.Errorf("%d nodes scrape; the compose file keeps one (any number is correct, one is simplest to read)", scrapers)
	}

	caddy, ok := p.Services["caddy"]
	if !ok {
		t.Fatal("no caddy service in front of the nodes")
	}
	for _, name := range nodes {
		if caddy.DependsOn[name].Condition != types.ServiceConditionHealthy {
			t.Errorf("caddy does not wait for a healthy %s", name)
		}
	}
	published := map[string]bool{}
	for _, port := range caddy.Ports {
		published[port.Published] = true
	}
	if !published["443"] || !published["80"] {
		t.Errorf("caddy publishes %v, want 80 and 443", caddy.Ports)
	}
	mounted := false
	for _, v := range caddy.Volumes {
		if v.Target == "/etc/caddy/Caddyfile" && strings.HasSuffix(v.Source, "/deploy/Caddyfile") {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("caddy does not mount deploy/Caddyfile: %+v", caddy.Volumes)
	}
	for _, name := range []string{"prometheus", "grafana"} {
		if _, ok := p.Services[name]; ok {
			t.Errorf("%s runs without the monitoring profile", name)
		}
	}
	mon := loadCompose(t, "monitoring")
	for _, name := range []string{"prometheus", "grafana"} {
		if _, ok := mon.Services[name]; !ok {
			t.Errorf("no %s in the monitoring profile", name)
		}
	}
}

// TestDeploy_Caddyfile has Caddy itself parse deploy/Caddyfile, and checks
// what streaming needs of it: no response buffering, every node an
// upstream, health checks on /readyz. CI installs caddy (Debian package);
// elsewhere the test is skipped without it.
func TestDeploy_Caddyfile(t *testing.T) {
	bin, err := exec.LookPath("caddy")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("caddy is not installed; .ci/run installs it (Debian package caddy)")
		}
		t.Skip("caddy is not installed (apt-get install caddy)")
	}
	out, err := exec.Command(bin, "adapt", "--config", "../../deploy/Caddyfile", "--adapter", "caddyfile").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("caddy adapt: %v: %s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var cfg struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Routes []struct {
						Handle []json.RawMessage `json:"handle"`
					} `json:"routes"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("caddy adapt output: %v", err)
	}
	// The proxy handler sits in a subroute of the site's route.
	type proxy struct {
		Handler       string `json:"handler"`
		FlushInterval *int64 `json:"flush_interval"`
		Upstreams     []struct {
			Dial string `json:"dial"`
		} `json:"upstreams"`
		HealthChecks struct {
			Active struct {
				URI string `json:"uri"`
			} `json:"active"`
		} `json:"health_checks"`
		Routes []struct {
			Handle []json.RawMessage `json:"handle"`
		} `json:"routes"`
	}
	var found []proxy
	var walk func(raw []json.RawMessage)
	walk = func(raw []json.RawMessage) {
		for _, h := range raw {
			var p proxy
			if json.Unmarshal(h, &p) != nil {
				continue
			}
			if p.Handler == "reverse_proxy" {
				found = append(found, p)
			}
			for _, r := range p.Routes {
				walk(r.Handle)
			}
		}
	}
	for _, srv := range cfg.Apps.HTTP.Servers {
		for _, r := range srv.Routes {
			walk(r.Handle)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d reverse_proxy handlers in the Caddyfile, want 1", len(found))
	}
	rp := found[0]
	if rp.FlushInterval == nil || *rp.FlushInterval != -1 {
		t.Errorf("flush_interval %v, want -1 (no buffering of streams)", rp.FlushInterval)
	}
	if rp.HealthChecks.Active.URI != "/readyz" {
		t.Errorf("health check %q, want /readyz", rp.HealthChecks.Active.URI)
	}
	var dials []string
	for _, u := range rp.Upstreams {
		dials = append(dials, u.Dial)
	}
	sort.Strings(dials)
	var want []string
	for _, n := range birjobNodes(loadCompose(t)) {
		want = append(want, n+":8080")
	}
	if strings.Join(dials, " ") != strings.Join(want, " ") {
		t.Errorf("upstreams %v, want every birjob node %v", dials, want)
	}
}

// TestDeploy_MonitoringConfig checks that Prometheus scrapes every node and
// that each birjob metric the Grafana dashboard charts is one a running
// node serves at /metrics.
func TestDeploy_MonitoringConfig(t *testing.T) {
	prom, err := os.ReadFile("../../deploy/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range birjobNodes(loadCompose(t)) {
		if !strings.Contains(string(prom), `"`+n+`:8080"`) {
			t.Errorf("prometheus.yml does not scrape %s:8080", n)
		}
	}
	raw, err := os.ReadFile("../../deploy/grafana/dashboards/birjob.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	used := map[string]bool{}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range regexp.MustCompile(`\bbirjob_[a-z_]+`).FindAllString(tg.Expr, -1) {
				used[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")] = true
			}
		}
	}
	if len(used) == 0 {
		t.Fatal("the dashboard charts no birjob metric")
	}
	// A node that has done some work: a scrape run of the demo board and
	// an ingested job (matched, evented); labelled series appear once used.
	cfg := testConfig(t)
	a, _ := startApp(t, cfg)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	post(t, c, a.URL()+"/api/login", `{"email":"`+cfg.AdminEmail+`","password":"`+cfg.AdminPassword+`"}`, 200)
	srcID := demoSourceID(t, c, a.URL())
	runWaited(t, c, fmt.Sprintf("%s/api/sources/%d/run?wait=1", a.URL(), srcID))
	post(t, c, a.URL()+"/api/jobs", `{"title":"Go developer","url":"https://example.com/jobs/metrics"}`, 201)
	missing := func() []string {
		resp, err := c.Get(a.URL() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var out []string
		for m := range used {
			if !regexp.MustCompile(`(?m)^# TYPE ` + m + ` `).Match(body) {
				out = append(out, m)
			}
		}
		sort.Strings(out)
		return out
	}
	deadline := time.Now().Add(60 * time.Second)
	for m := missing(); len(m) > 0; m = missing() {
		if time.Now().After(deadline) {
			t.Fatalf("the dashboard charts %v, which /metrics does not serve", m)
		}
		time.Sleep(100 * time.Millisecond) // the matcher's batch commits on its own goroutine; polled with a deadline
	}
}

// runWaited runs a source and waits for the run (POST …/run?wait=1). The
// demo board's own schedule (every 10 s) may be running it already: that
// answers 409, and the run is asked again, with a deadline, once that one
// is over.
func runWaited(t *testing.T, c *http.Client, url string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := c.Post(url, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			return
		case resp.StatusCode != http.StatusConflict || time.Now().After(deadline):
			t.Fatalf("POST %s = %d %s, want 200", url, resp.StatusCode, raw)
		}
		time.Sleep(100 * time.Millisecond) // polling until the scheduled run is over, with a deadline
	}
}

// demoSourceID finds the demo board's source through the API.
func demoSourceID(t *testing.T, c *http.Client, base string) int64 {
	t.Helper()
	resp, err := c.Get(base + "/api/sources")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Sources []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"sources"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	for _, s := range out.Sources {
		if s.Name == DemoSourceName {
			return s.ID
		}
	}
	t.Fatalf("no %s source in %+v", DemoSourceName, out)
	return 0
}

func printConfig(t *testing.T) string {
	var b strings.Builder
	c := config.Default()
	c.Print(&b)
	return b.String()
}

func TestDeploy_Dockerfile(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	for _, want := range []string{"go build", "./cmd/birjob", "EXPOSE 8080", "ENTRYPOINT", "USER "} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	m := regexp.MustCompile(`(?m)^FROM golang:(\d+\.\d+)`).FindStringSubmatch(df)
	gomod, _ := os.ReadFile("../../go.mod")
	gv := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(gomod))
	if m == nil || gv == nil || m[1] != gv[1] {
		t.Errorf("Dockerfile builds with Go %v, go.mod wants %v", m, gv)
	}
}
