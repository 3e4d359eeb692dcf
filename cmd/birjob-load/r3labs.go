package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/r3labs/sse/v2"
)

// r3server is r3labs/sse/v2 used as its documentation suggests for
// per-client replay: one stream per connection (fan-out by publishing to
// every stream, with TryPublish so that one slow client blocks nobody). It
// exists to measure what that design costs per idle connection; birjob
// does not serve SSE this way (see notify's package documentation).
type r3server struct {
	srv   *sse.Server
	mu    sync.Mutex
	chans map[string]map[string]struct{}
	next  atomic.Int64
}

func newR3server() *r3server {
	r := &r3server{chans: map[string]map[string]struct{}{}}
	r.srv = sse.New()
	r.srv.AutoReplay = false
	r.srv.OnSubscribe = func(id string, _ *sse.Subscriber) {
		r.srv.TryPublish(id, &sse.Event{Event: []byte("connected"), Data: []byte("{}")})
	}
	return r
}

func (r *r3server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/events/{channel}", func(w http.ResponseWriter, req *http.Request) {
		ch := channelOf(req, req.PathValue("channel"))
		id := strconv.FormatInt(r.next.Add(1), 10)
		r.srv.CreateStream(id)
		r.mu.Lock()
		if r.chans[ch] == nil {
			r.chans[ch] = map[string]struct{}{}
		}
		r.chans[ch][id] = struct{}{}
		r.mu.Unlock()
		defer func() {
			r.mu.Lock()
			delete(r.chans[ch], id)
			r.mu.Unlock()
			r.srv.RemoveStream(id)
		}()
		q := req.URL.Query()
		q.Set("stream", id)
		req.URL.RawQuery = q.Encode()
		r.srv.ServeHTTP(w, req)
	})
	mux.HandleFunc("POST /publish", func(w http.ResponseWriter, req *http.Request) {
		var p struct {
			Channels []string        `json:"channels"`
			Data     json.RawMessage `json:"data"`
		}
		if err := json.NewDecoder(req.Body).Decode(&p); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		n := 0
		r.mu.Lock()
		for _, ch := range p.Channels {
			for id := range r.chans[ch] {
				if r.srv.TryPublish(id, &sse.Event{Event: []byte("new-job"), Data: p.Data}) {
					n++
				}
			}
		}
		r.mu.Unlock()
		fmt.Fprintf(w, `{"clientCount":%d}`, n)
	})
}
