package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/birjob/birjob/config"
)

// No Docker engine runs where the tests run, so the compose file and the
// Dockerfile are checked for what `docker compose up` relies on.
func TestDeploy_ComposeFile(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       any               `yaml:"build"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
			Volumes     []string          `yaml:"volumes"`
			DependsOn   map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
			Healthcheck struct {
				Test     []string `yaml:"test"`
				Interval string   `yaml:"interval"`
				Timeout  string   `yaml:"timeout"`
				Retries  int      `yaml:"retries"`
			} `yaml:"healthcheck"`
			Restart string `yaml:"restart"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	pg, ok := doc.Services["postgres"]
	if !ok {
		t.Fatal("no postgres service")
	}
	if !strings.HasPrefix(pg.Image, "postgres:") {
		t.Errorf("postgres image = %q", pg.Image)
	}
	if len(pg.Healthcheck.Test) == 0 || !strings.Contains(strings.Join(pg.Healthcheck.Test, " "), "pg_isready") {
		t.Errorf("postgres has no pg_isready health check: %v", pg.Healthcheck.Test)
	}
	if len(pg.Volumes) == 0 || !strings.HasSuffix(pg.Volumes[0], ":/var/lib/postgresql/data") {
		t.Errorf("postgres data is not on a volume: %v", pg.Volumes)
	}
	vol := strings.SplitN(pg.Volumes[0], ":", 2)[0]
	if _, ok := doc.Volumes[vol]; !ok {
		t.Errorf("volume %q is not declared", vol)
	}
	bj, ok := doc.Services["birjob"]
	if !ok {
		t.Fatal("no birjob service")
	}
	if bj.Build == nil {
		t.Error("birjob is not built from the Dockerfile")
	}
	if bj.DependsOn["postgres"].Condition != "service_healthy" {
		t.Errorf("birjob does not wait for a healthy postgres: %+v", bj.DependsOn)
	}
	known := map[string]bool{}
	for _, line := range strings.Split(printConfig(t), "\n") {
		if k, _, ok := strings.Cut(line, "="); ok {
			known[k] = true
		}
	}
	for k := range bj.Environment {
		if !known[k] {
			t.Errorf("birjob environment sets %s, which birjob does not read", k)
		}
	}
	u := bj.Environment["DATABASE_URL"]
	m := regexp.MustCompile(`^postgres://([^:]+):([^@]+)@([^:/]+):5432/(\w+)`).FindStringSubmatch(u)
	if m == nil {
		t.Fatalf("DATABASE_URL %q is not a postgres URL", u)
	}
	if m[3] != "postgres" || m[1] != pg.Environment["POSTGRES_USER"] || m[2] != pg.Environment["POSTGRES_PASSWORD"] || m[4] != pg.Environment["POSTGRES_DB"] {
		t.Errorf("DATABASE_URL %q does not match the postgres service %v", u, pg.Environment)
	}
	if len(bj.Ports) == 0 || !strings.HasSuffix(bj.Ports[0], ":8080") {
		t.Errorf("birjob port 8080 not published: %v", bj.Ports)
	}
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
