package api_test

import (
	"context"
	"fmt"
	"testing"
)

func TestFeeds_AdminOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.auth.BootstrapAdmin(ctx, "root@example.com", "admin-pass"); err != nil {
		t.Fatal(err)
	}
	admin, user := e.client(), e.client()
	admin.mustDo("POST", "/api/login", map[string]string{"email": "root@example.com", "password": "admin-pass"}, 200)
	user.mustDo("POST", "/api/signup", map[string]string{"email": "u@example.com", "password": "password1"}, 201)

	user.mustDo("POST", "/api/feeds", map[string]any{"name": "baku", "location": "Baku"}, 403)
	e.client().mustDo("POST", "/api/feeds", map[string]any{"name": "baku", "location": "Baku"}, 401)
	f := admin.mustDo("POST", "/api/feeds", map[string]any{"name": "job-alerts-baku", "title": "Baku", "location": "Baku"}, 201)
	admin.mustDo("POST", "/api/feeds", map[string]any{"name": "job-alerts-baku", "location": "Baku"}, 409)
	for _, bad := range []string{"me", "jobs", "Upper", "user:1", "", "a b"} {
		admin.mustDo("POST", "/api/feeds", map[string]any{"name": bad}, 400)
	}
	feeds := e.client().mustDo("GET", "/api/feeds", nil, 200)["feeds"].([]any)
	if len(feeds) != 1 || feeds[0].(map[string]any)["location"] != "Baku" {
		t.Fatalf("feeds = %v", feeds)
	}
	path := fmt.Sprintf("/api/feeds/%d", int64(f["id"].(float64)))
	admin.mustDo("PUT", path, map[string]any{"name": "renamed"}, 400)
	if got := admin.mustDo("PUT", path, map[string]any{"location": "Gəncə"}, 200); got["location"] != "Gəncə" {
		t.Fatalf("update = %v", got)
	}
	user.mustDo("DELETE", path, nil, 403)
	admin.mustDo("DELETE", path, nil, 204)
}
