package api_test

import (
	"context"
	"encoding/json"
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

// TestAlerts_RefusesMatchEverything: a body that says nothing, says it
// under an unknown field, or looks for nothing (only exclusions) is a 400
// that says what to do, for alerts and feeds, on create and on update; an
// alert with only a location or a salary is fine.
func TestAlerts_RefusesMatchEverything(t *testing.T) {
	e := newEnv(t)
	ann := e.client()
	ann.mustDo("POST", "/api/signup", map[string]string{"email": "ann@example.com", "password": "password1"}, 201)
	for _, tc := range []struct {
		body any
		want string // in the message
	}{
		{json.RawMessage(`null`), "must be a JSON object, not null"},
		{json.RawMessage(`[]`), "must be a JSON object, not an array"},
		{json.RawMessage(`{}`), "would match every job"},
		{map[string]any{"name": "x"}, "would match every job"},
		{map[string]any{"criteria": map[string]any{"query": "golang"}}, `unknown field "criteria"`},
		{map[string]any{"query": "golang", "locaton": "Baku"}, `unknown field "locaton"`},
		{map[string]any{"query": "-"}, "would match every job"},
		{map[string]any{"query": "-php"}, `exclusions alone`},
		{map[string]any{"query": "NOT php -(java OR rust)"}, "would match every job"},
		{map[string]any{"query": `""`}, "empty phrase"},
		{map[string]any{"excludeCompanies": []string{"Acme"}}, "would match every job"},
		{map[string]any{"salaryMin": map[string]any{"amount": 0}}, "would match every job"},
	} {
		code, out := ann.do("POST", "/api/alerts", tc.body)
		if msg, _ := out["error"].(string); code != 400 || !strings.Contains(msg, tc.want) {
			t.Errorf("POST %s = %d %v, want 400 with %q", tc.body, code, out, tc.want)
		}
	}
	if n := len(ann.mustDo("GET", "/api/alerts", nil, 200)["alerts"].([]any)); n != 0 {
		t.Fatalf("%d alerts were created from refused bodies", n)
	}

	// Narrow enough: a positive term, a location alone, a salary alone.
	ann.mustDo("POST", "/api/alerts", map[string]any{"query": "golang -php"}, 201)
	ann.mustDo("POST", "/api/alerts", map[string]any{"location": "Bakı"}, 201)
	a := ann.mustDo("POST", "/api/alerts", map[string]any{"salaryMin": map[string]any{"amount": 2000}}, 201)
	path := fmt.Sprintf("/api/alerts/%v", a["id"])

	// Update: the same rules; what GET answers can be sent back.
	ann.mustDo("PUT", path, map[string]any{"salaryMin": nil}, 400)
	ann.mustDo("PUT", path, map[string]any{"criteria": map[string]any{}}, 400)
	ann.mustDo("PUT", path, json.RawMessage(`null`), 400)
	for _, al := range ann.mustDo("GET", "/api/alerts", nil, 200)["alerts"].([]any) {
		al := al.(map[string]any)
		al["matches"] = []any{}
		ann.mustDo("PUT", fmt.Sprintf("/api/alerts/%v", al["id"]), al, 200)
	}

	// Feeds: the same strict body and rule.
	if _, err := e.auth.BootstrapAdmin(context.Background(), "root@example.com", "admin-pass"); err != nil {
		t.Fatal(err)
	}
	admin := e.client()
	admin.mustDo("POST", "/api/login", map[string]string{"email": "root@example.com", "password": "admin-pass"}, 200)
	admin.mustDo("POST", "/api/feeds", map[string]any{"name": "all"}, 400)
	admin.mustDo("POST", "/api/feeds", map[string]any{"name": "all", "criteria": map[string]any{"location": "Baku"}}, 400)
	f := admin.mustDo("POST", "/api/feeds", map[string]any{"name": "baku", "location": "Baku"}, 201)
	admin.mustDo("PUT", fmt.Sprintf("/api/feeds/%v", f["id"]), map[string]any{"location": ""}, 400)
	admin.mustDo("PUT", fmt.Sprintf("/api/feeds/%v", f["id"]), map[string]any{"titel": "x"}, 400)
}
