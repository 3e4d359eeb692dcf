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

func TestSentOf(t *testing.T) {
	now := time.Unix(0, 5_000_000)
	if d, ok := sentOf([]byte(`data: {"sent":2000000,"seq":1}`), now); !ok || d != 3*time.Millisecond {
		t.Fatalf("sentOf = %v %v", d, ok)
	}
	for _, bad := range []string{`{}`, `{"sent":}`, `{"sent":"x"}`} {
		if _, ok := sentOf([]byte(bad), now); ok {
			t.Errorf("sentOf(%s) ok", bad)
		}
	}
}
