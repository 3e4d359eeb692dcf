package scraper

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/birjob/birjob/demoboard"
	"github.com/birjob/birjob/model"
)

// TestDemoBoard scrapes the built-in demo board with the selectors it
// exports, as html (list + detail JSON-LD), rss and json sources, and
// checks every posting against what the board says it lists.
func TestDemoBoard(t *testing.T) {
	s, _ := newTestService(t)
	now := time.Now().Truncate(time.Second)
	board := demoboard.New(demoboard.Options{Seed: 7, Now: func() time.Time { return now }})
	srv := httptest.NewServer(board)
	defer srv.Close()
	want := map[string]model.Job{}
	for _, p := range board.JobsAt(now) {
		want[p.ID] = p.Job(srv.URL)
	}
	if len(want) == 0 {
		t.Fatal("the board lists nothing")
	}
	check := func(t *testing.T, kind string, got []model.Job, full bool) {
		t.Helper()
		if len(got) == 0 {
			t.Fatalf("%s: nothing extracted", kind)
		}
		if full && len(got) != len(want) {
			t.Errorf("%s: %d jobs, the board lists %d", kind, len(got), len(want))
		}
		for _, g := range got {
			w, ok := want[g.ExternalID]
			if !ok {
				t.Errorf("%s: unexpected job %q (%s)", kind, g.ExternalID, g.URL)
				continue
			}
			if g.Title != w.Title || g.URL != w.URL {
				t.Errorf("%s %s:\n got %q %q\nwant %q %q", kind, g.ExternalID, g.Title, g.URL, w.Title, w.URL)
			}
			// The feed carries neither company nor location.
			if kind != "rss" && (g.Company != w.Company || g.Remote != w.Remote) {
				t.Errorf("%s %s:\n got %q %q %q remote=%v\nwant %q %q %q remote=%v", kind, g.ExternalID, g.Title, g.URL, g.Company, g.Remote, w.Title, w.URL, w.Company, w.Remote)
			}
			if kind != "rss" && (g.Location != w.Location) {
				t.Errorf("%s %s: location %q, want %q", kind, g.ExternalID, g.Location, w.Location)
			}
			if kind != "rss" && !salaryEq(g.Salary, w.Salary) {
				t.Errorf("%s %s: salary %+v, want %+v", kind, g.ExternalID, g.Salary, w.Salary)
			}
			if kind == "html" && g.EmploymentType != w.EmploymentType {
				t.Errorf("%s %s: type %q, want %q", kind, g.ExternalID, g.EmploymentType, w.EmploymentType)
			}
			if g.PostedAt == nil || !g.PostedAt.Equal(*w.PostedAt) {
				t.Errorf("%s %s: postedAt %v, want %v", kind, g.ExternalID, g.PostedAt, w.PostedAt)
			}
		}
	}
	t.Run("html", func(t *testing.T) {
		src := model.Source{Name: "demo", Kind: "html", URL: board.StartURL(srv.URL), Schedule: "@every 10s", Selectors: demoboard.SourceSelectors(), RespectRobots: true}
		if err := ValidateSource(src); err != nil {
			t.Fatal(err)
		}
		o, _ := s.options(src)
		res := s.crawl(context.Background(), src, o)
		if res.ErrorCount != 0 || res.Limited {
			t.Fatalf("errors %v limited %v", res.Errors, res.Limited)
		}
		check(t, "html", res.Jobs, true)
	})
	t.Run("rss", func(t *testing.T) {
		src := model.Source{Name: "demo-rss", Kind: "rss", URL: board.FeedURL(srv.URL), Schedule: "@every 10s", RespectRobots: true}
		o, _ := s.options(src)
		res := s.crawl(context.Background(), src, o)
		if res.ErrorCount != 0 {
			t.Fatalf("errors %v", res.Errors)
		}
		check(t, "rss", res.Jobs, false)
	})
	t.Run("json", func(t *testing.T) {
		src := model.Source{Name: "demo-json", Kind: "json", URL: board.APIURL(srv.URL), Schedule: "@every 10s", Selectors: demoboard.JSONSelectors(), RespectRobots: true}
		if err := ValidateSource(src); err != nil {
			t.Fatal(err)
		}
		o, _ := s.options(src)
		res := s.crawl(context.Background(), src, o)
		if res.ErrorCount != 0 {
			t.Fatalf("errors %v", res.Errors)
		}
		check(t, "json", res.Jobs, false)
	})
}

func salaryEq(a, b *model.Salary) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() == b.IsZero()
	}
	return *a == *b
}
