package api_test

import (
	"fmt"
	"testing"
)

// TestAlerts_Mute: "muted" is part of the alert's JSON (false by default),
// a PUT of it alone keeps every other field, it is listed with the alert's
// matches, and a value that is not a boolean is a 400 with a message.
func TestAlerts_Mute(t *testing.T) {
	e := newEnv(t)
	ann := e.client()
	ann.mustDo("POST", "/api/signup", map[string]string{"email": "ann@example.com", "password": "password1"}, 201)
	a := ann.mustDo("POST", "/api/alerts", map[string]any{"name": "Go", "query": "golang", "email": "instant"}, 201)
	if m, ok := a["muted"]; !ok || m != false {
		t.Fatalf("new alert: muted = %v (present %v), want false", m, ok)
	}
	path := fmt.Sprintf("/api/alerts/%d", int64(a["id"].(float64)))

	m := ann.mustDo("PUT", path, map[string]any{"muted": true}, 200)
	if m["muted"] != true || m["paused"] != false || m["email"] != "instant" || m["query"] != "golang" || m["name"] != "Go" {
		t.Fatalf("after mute: %v", m)
	}
	list := ann.mustDo("GET", "/api/alerts", nil, 200)["alerts"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["muted"] != true {
		t.Fatalf("list after mute = %v", list)
	}
	if got := ann.mustDo("GET", path, nil, 200)["muted"]; got != true {
		t.Fatalf("GET after mute: muted = %v", got)
	}
	ann.mustDo("PUT", path, map[string]any{"muted": "yes"}, 400)

	// Created muted, and unmuted again.
	b := ann.mustDo("POST", "/api/alerts", map[string]any{"name": "Rust", "query": "rust", "muted": true}, 201)
	if b["muted"] != true {
		t.Fatalf("created muted: %v", b)
	}
	u := ann.mustDo("PUT", fmt.Sprintf("/api/alerts/%d", int64(b["id"].(float64))), map[string]any{"muted": false}, 200)
	if u["muted"] != false || u["query"] != "rust" {
		t.Fatalf("after unmute: %v", u)
	}
}
