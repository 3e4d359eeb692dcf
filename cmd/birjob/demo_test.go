package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"slices"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// TestDemo_SourceFollowsAddress: the demo source points at the node's
// current address after a restart on another port, and the scraper may
// fetch that one address only (BIRJOB_ALLOW_PRIVATE=auto).
func TestDemo_SourceFollowsAddress(t *testing.T) {
	cfg := testConfig(t) // demo on, allow-private auto
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for start := range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a, err := New(ctx, cfg, log, Options{HashCost: bcrypt.MinCost, Listener: ln})
		if err != nil {
			t.Fatal(err)
		}
		srcs, err := storage.New(a.Pool()).ListSources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := a.parts.demo.StartURL(a.URL())
		i := slices.IndexFunc(srcs, func(s model.Source) bool { return s.Name == DemoSourceName })
		if i < 0 || srcs[i].URL != want {
			t.Errorf("start %d: demo source = %+v, want URL %s", start, srcs, want)
		}
		sc := a.parts.scraper.Config()
		if sc.AllowPrivate || !slices.Equal(sc.AllowAddrs, []string{ln.Addr().String()}) {
			t.Errorf("start %d: allow private %v, addresses %v; want only %s", start, sc.AllowPrivate, sc.AllowAddrs, ln.Addr())
		}
		a.close()
		ln.Close()
	}
}
