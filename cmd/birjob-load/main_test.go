package main

import (
	"testing"
	"time"
)

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.3.2.1:1": true,
		"10.0.0.1:80": false, "[::1]:80": false, "example.com:80": false, "nonsense": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v", addr, got)
		}
	}
}

func TestStampOf(t *testing.T) {
	now := time.Unix(0, 5_000_000)
	if d, stamp, ok := stampOf([]byte(`data: {"sent":2000000,"seq":1}`), now); !ok || d != 3*time.Millisecond || stamp != 2_000_000 {
		t.Fatalf("stampOf = %v %v %v", d, stamp, ok)
	}
	for _, bad := range []string{`{}`, `{"sent":}`, `{"sent":"x"}`} {
		if _, _, ok := stampOf([]byte(bad), now); ok {
			t.Errorf("stampOf(%s) ok", bad)
		}
	}
}
