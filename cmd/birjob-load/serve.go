package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/procstat"
	"github.com/birjob/birjob/notify"
)

// serve runs one server under test in this (child) process: birjob's hub
// or the bare fan-out floor. It prints its address on stdout.
func serve(args []string) error {
	mode, addr, dbURL := "birjob", "127.0.0.1:0", ""
	var cfg notify.Config
	for i := 0; i+1 < len(args); i += 2 {
		switch args[i] {
		case "-mode":
			mode = args[i+1]
		case "-addr":
			addr = args[i+1]
		case "-db":
			dbURL = args[i+1]
		case "-keepalive":
			cfg.Keepalive, _ = time.ParseDuration(args[i+1])
		}
	}
	procstat.RaiseFDLimit(uint64(maxClients*2 + 1000))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if !isLoopback(ln.Addr().String()) {
		return fmt.Errorf("load servers listen on 127.0.0.0/8 only, not %s", ln.Addr())
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /debug/gc", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		json.NewEncoder(w).Encode(map[string]any{"goroutines": runtime.NumGoroutine(), "heapInuse": ms.HeapInuse, "stackInuse": ms.StackInuse})
	})
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var hub *notify.Hub
	switch mode {
	case "birjob":
		pool, err := pgxpool.New(ctx, dbURL)
		if err != nil {
			return err
		}
		defer pool.Close()
		reg := prometheus.NewRegistry()
		hub = notify.NewHub(pool, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), reg)
		go hub.Run(ctx)
		hub.Routes(mux)
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		mux.HandleFunc("GET /debug/stats", func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(hub.Stats())
		})
	case "floor":
		f := &floor{conns: map[string]map[chan []byte]struct{}{}}
		f.routes(mux)
	case "r3labs":
		newR3server().routes(mux)
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	srv := &http.Server{Handler: loadAuth(mux)}
	go srv.Serve(ln)
	fmt.Printf("listening %s\n", ln.Addr())
	fmt.Fprintf(os.Stderr, "[serve %s] pid %d listening on %s\n", mode, os.Getpid(), ln.Addr())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if hub != nil {
		hub.Shutdown(sctx)
	}
	srv.Shutdown(sctx)
	return nil
}

// loadAuth signs requests in as the user named by X-Load-User: a bench
// harness stand-in for birjob's auth middleware.
func loadAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("X-Load-User"); v != "" {
			id, _ := strconv.ParseInt(v, 10, 64)
			r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{UserID: id}))
		}
		next.ServeHTTP(w, r)
	})
}

// floor is the bare fan-out server: no storage, no ids, no replay; one
// frame encoded per event and written to every connection of the channel
// by that connection's own handler goroutine (the usual net/http design).
// It is the floor of this machine for the same transports.
type floor struct {
	mu    sync.Mutex
	conns map[string]map[chan []byte]struct{}
}

// add registers one connection on channels.
func (f *floor) add(chs []string) chan []byte {
	c := make(chan []byte, 16)
	f.mu.Lock()
	for _, ch := range chs {
		m := f.conns[ch]
		if m == nil {
			m = map[chan []byte]struct{}{}
			f.conns[ch] = m
		}
		m[c] = struct{}{}
	}
	f.mu.Unlock()
	return c
}

func (f *floor) remove(chs []string, c chan []byte) {
	f.mu.Lock()
	for _, ch := range chs {
		delete(f.conns[ch], c)
	}
	f.mu.Unlock()
}

// streamChannels are the channels of a floor stream: the path's, or those
// of ?channels=jobs,me.
func streamChannels(r *http.Request) []string {
	if name := r.PathValue("channel"); name != "" {
		return []string{channelOf(r, name)}
	}
	var chs []string
	for name := range strings.SplitSeq(r.URL.Query().Get("channels"), ",") {
		chs = append(chs, channelOf(r, name))
	}
	return chs
}

func channelOf(r *http.Request, name string) string {
	if name == "me" {
		return "user:" + r.Header.Get("X-Load-User")
	}
	return name
}

func (f *floor) routes(mux *http.ServeMux) {
	sseHandler := func(w http.ResponseWriter, r *http.Request) {
		chs := streamChannels(r)
		c := f.add(chs)
		defer f.remove(chs, c)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		rc := http.NewResponseController(w)
		fmt.Fprintf(w, "retry: 2000\nevent: connected\ndata: {}\n\n")
		rc.Flush()
		for {
			select {
			case b := <-c:
				w.Write(b[0:len(b):len(b)])
				rc.Flush()
			case <-r.Context().Done():
				return
			}
		}
	}
	mux.HandleFunc("GET /api/events/{channel}", sseHandler)
	mux.HandleFunc("GET /api/events", sseHandler)
	mux.HandleFunc("GET /api/ws", func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		// Read the joins (?joins=, default 1) to learn the rooms; then
		// only writes.
		joins, _ := strconv.Atoi(r.URL.Query().Get("joins"))
		var chs []string
		for range min(max(joins, 1), 8) {
			_, msg, err := conn.Read(r.Context())
			if err != nil {
				return
			}
			var j struct {
				Room string `json:"room"`
			}
			json.Unmarshal(msg, &j)
			chs = append(chs, channelOf(r, j.Room))
		}
		c := f.add(chs)
		defer f.remove(chs, c)
		ctx := conn.CloseRead(context.Background())
		for range chs {
			conn.Write(ctx, websocket.MessageText, []byte(`{"type":"joined"}`))
		}
		for {
			select {
			case b := <-c:
				if conn.Write(ctx, websocket.MessageText, b) != nil {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	})
	pollHandler := func(w http.ResponseWriter, r *http.Request) {
		chs := streamChannels(r)
		c := f.add(chs)
		defer f.remove(chs, c)
		t := time.NewTimer(30 * time.Second)
		defer t.Stop()
		w.Header().Set("Content-Type", "application/json")
		select {
		case b := <-c:
			w.Write(b)
		case <-t.C:
			w.Write([]byte(`{"events":[],"lastEventId":""}`))
		case <-r.Context().Done():
		}
	}
	mux.HandleFunc("GET /api/poll/{channel}", pollHandler)
	mux.HandleFunc("GET /api/poll", pollHandler)
	// POST /publish {"transport":…, "channels":[…], "data":{…}}: one frame
	// per channel, pre-encoded for the transport, to every connection.
	mux.HandleFunc("POST /publish", func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			Transport string          `json:"transport"`
			Channels  []string        `json:"channels"`
			Data      json.RawMessage `json:"data"`
		}
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var frame []byte
		switch p.Transport {
		case "sse":
			frame = fmt.Appendf(nil, "event: new-job\ndata: %s\n\n", p.Data)
		case "ws":
			frame = fmt.Appendf(nil, `{"type":"new-job","room":"jobs","data":%s}`, p.Data)
		default:
			frame = fmt.Appendf(nil, `{"events":[{"type":"new-job","data":%s}],"lastEventId":""}`, p.Data)
		}
		n := 0
		f.mu.Lock()
		for _, ch := range p.Channels {
			for c := range f.conns[ch] {
				select {
				case c <- frame:
					n++
				default:
				}
			}
		}
		f.mu.Unlock()
		fmt.Fprintf(w, `{"clientCount":%d}`, n)
	})
}
