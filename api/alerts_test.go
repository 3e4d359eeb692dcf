package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/birjob/birjob/model"
)

func TestAlerts_CRUDAndIsolation(t *testing.T) {
	e := newEnv(t)
	ann, bob := e.client(), e.client()
	ann.mustDo("POST", "/api/signup", map[string]string{"email": "ann@example.com", "password": "password1"}, 201)
	bob.mustDo("POST", "/api/signup", map[string]string{"email": "bob@example.com", "password": "password2"}, 201)

	a := ann.mustDo("POST", "/api/alerts", map[string]any{
		"name": "Go in Baku", "query": `golang -php "backend developer"`, "location": "Bakı",
		"salaryMin":       map[string]any{"amount": 2000, "currency": "AZN", "period": "month"},
		"employmentTypes": []string{"full-time"}, "excludeCompanies": []string{"Acme"},
	}, 201)
	id := int64(a["id"].(float64))
	path := fmt.Sprintf("/api/alerts/%d", id)
	if a["query"] != `golang -php "backend developer"` || a["location"] != "Bakı" || a["paused"] != false {
		t.Fatalf("created alert %v", a)
	}
	ann.mustDo("POST", "/api/alerts", map[string]any{"query": `"unclosed`}, 400)

	// Pause keeps the other fields.
	p := ann.mustDo("PUT", path, map[string]any{"paused": true}, 200)
	if p["paused"] != true || p["query"] != a["query"] || p["location"] != "Bakı" {
		t.Fatalf("after pause: %v", p)
	}
	list := ann.mustDo("GET", "/api/alerts", nil, 200)["alerts"].([]any)
	if len(list) != 1 {
		t.Fatalf("list = %v", list)
	}

	// Bob cannot see, change or delete Ann's alert.
	bob.mustDo("GET", path, nil, 404)
	bob.mustDo("PUT", path, map[string]any{"paused": false}, 404)
	bob.mustDo("DELETE", path, nil, 404)
	if n := len(bob.mustDo("GET", "/api/alerts", nil, 200)["alerts"].([]any)); n != 0 {
		t.Fatalf("bob sees %d alerts", n)
	}
	e.client().mustDo("GET", "/api/alerts", nil, 401)

	ann.mustDo("DELETE", path, nil, 204)
	ann.mustDo("GET", path, nil, 404)
	ann.mustDo("GET", "/api/alerts/abc", nil, 400)
}

// TestAlerts_RecentMatches: each alert lists the jobs it matched, newest
// first and once each, from the user's own new-job events only.
func TestAlerts_RecentMatches(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pool := e.store.DB()
	ann, bob := e.client(), e.client()
	ann.mustDo("POST", "/api/signup", map[string]string{"email": "ann@example.com", "password": "password1"}, 201)
	bob.mustDo("POST", "/api/signup", map[string]string{"email": "bob@example.com", "password": "password2"}, 201)
	annID := int64(ann.mustDo("GET", "/api/me", nil, 200)["id"].(float64))
	bobID := int64(bob.mustDo("GET", "/api/me", nil, 200)["id"].(float64))
	a := int64(ann.mustDo("POST", "/api/alerts", map[string]any{"query": "golang"}, 201)["id"].(float64))
	b := int64(ann.mustDo("POST", "/api/alerts", map[string]any{"query": "rust"}, 201)["id"].(float64))

	ids := insertJobs(t, e, "Job one", "Job two", "Job bobs")
	job := map[string]int64{"one": ids[0], "two": ids[1], "bobs": ids[2]}
	// What the matcher writes (job JSON with "alerts"), in this order, plus
	// what it does not: an admin's free-form event, a job-expired, and an
	// event on Bob's channel naming Ann's alert.
	for _, ev := range []struct {
		user int64
		typ  string
		data string
	}{
		{annID, "new-job", fmt.Sprintf(`{"id":%d,"title":"Job one","alerts":[%d]}`, job["one"], a)},
		{annID, "new-job", `{"hello":"world"}`},
		{annID, "new-job", fmt.Sprintf(`{"id":%d,"title":"Job two","alerts":[%d,%d]}`, job["two"], a, b)},
		{annID, "job-expired", fmt.Sprintf(`{"id":%d,"alerts":[%d]}`, job["bobs"], b)},
		{bobID, "new-job", fmt.Sprintf(`{"id":%d,"alerts":[%d]}`, job["bobs"], a)},
		{annID, "new-job", fmt.Sprintf(`{"id":%d,"title":"Job one","alerts":[%d]}`, job["one"], a)},
	} {
		if _, err := pool.Exec(ctx, `INSERT INTO events (channel, type, data) VALUES ($1, $2, $3)`,
			model.UserChannel(ev.user), ev.typ, ev.data); err != nil {
			t.Fatal(err)
		}
	}
	got := map[int64][]string{}
	for _, al := range ann.mustDo("GET", "/api/alerts", nil, 200)["alerts"].([]any) {
		al := al.(map[string]any)
		ms, _ := al["matches"].([]any)
		for _, m := range ms {
			got[int64(al["id"].(float64))] = append(got[int64(al["id"].(float64))], m.(map[string]any)["title"].(string))
		}
	}
	if strings.Join(got[a], ",") != "Job one,Job two" || strings.Join(got[b], ",") != "Job two" {
		t.Fatalf("matches: alert a %v (want Job one,Job two), alert b %v (want Job two)", got[a], got[b])
	}
}
