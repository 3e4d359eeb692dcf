package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

var (
	dialCount atomic.Int64
	// srcBase moves each run to fresh source addresses, so that the
	// TIME_WAIT sockets of the previous run do not slow down connecting.
	srcBase atomic.Int64
)

// dial connects from 127.0.0.x, moving to the next source address every
// perSourceIP connections, so that more than ~28,000 connections to one
// server port do not run out of ephemeral ports.
func dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if !isLoopback(addr) {
		return nil, fmt.Errorf("refusing to dial non-loopback %s", addr)
	}
	i := dialCount.Add(1) - 1
	src := net.IPv4(127, 0, 0, byte(1+(srcBase.Load()+i/perSourceIP)%250))
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 30 * time.Second}
	return d.DialContext(ctx, network, addr)
}

var httpClient = &http.Client{Transport: &http.Transport{
	DialContext:         dial,
	MaxIdleConns:        maxClients,
	MaxIdleConnsPerHost: maxClients,
	DisableCompression:  true,
}}

func userOf(o options, i int) string {
	if slices.Contains(o.channels, "me") {
		return strconv.Itoa(i + 1)
	}
	return "0"
}

// streamPath is the path of a stream (prefix /api/events or /api/poll) of
// channels: /api/events/jobs for one, /api/events?channels=jobs,me for
// several.
func streamPath(prefix string, channels []string) string {
	if len(channels) == 1 {
		return prefix + "/" + channels[0]
	}
	return prefix + "?channels=" + strings.Join(channels, ",")
}

// connectAll starts o.clients clients and returns once each has connected
// (or failed), with how many did.
func connectAll(ctx context.Context, o options, base string, col *collector) int {
	sem := make(chan struct{}, o.connPar)
	var ok atomic.Int64
	var wg sync.WaitGroup
	for i := range o.clients {
		sem <- struct{}{}
		wg.Add(1)
		var once sync.Once
		ready := func(good bool) {
			once.Do(func() {
				if good {
					ok.Add(1)
				}
				<-sem
				wg.Done()
			})
		}
		switch o.transport {
		case "sse":
			go sseClient(ctx, base, o.channels, userOf(o, i), col, ready)
		case "ws":
			go wsClient(ctx, base, o.channels, userOf(o, i), col, ready)
		default:
			go pollClient(ctx, base, o.channels, userOf(o, i), col, ready)
		}
	}
	wg.Wait()
	return int(ok.Load())
}

func sseClient(ctx context.Context, base string, channels []string, user string, col *collector, ready func(bool)) {
	defer ready(false)
	u, _ := url.Parse(base)
	conn, err := dial(ctx, "tcp", u.Host)
	if err != nil {
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\nX-Load-User: %s\r\n\r\n", streamPath("/api/events", channels), u.Host, user)
	br := bufio.NewReaderSize(conn, 2048)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		return
	}
	body := bufio.NewReaderSize(resp.Body, 2048)
	for {
		line, err := body.ReadSlice('\n')
		if err != nil {
			return
		}
		switch {
		case len(line) > 6 && string(line[:6]) == "event:" && string(line) == "event: connected\n":
			ready(true)
		case len(line) > 6 && string(line[:6]) == "data: ":
			if d, stamp, ok := stampOf(line, time.Now()); ok {
				col.sample(d, stamp)
			}
		}
	}
}

// wsClient joins each of channels on one socket. (The floor server reads
// as many joins as ?joins= says; birjob ignores the parameter.)
func wsClient(ctx context.Context, base string, channels []string, user string, col *collector, ready func(bool)) {
	defer ready(false)
	hdr := http.Header{}
	hdr.Set("X-Load-User", user)
	conn, _, err := websocket.Dial(ctx, "ws"+base[len("http"):]+"/api/ws?joins="+strconv.Itoa(len(channels)), &websocket.DialOptions{HTTPClient: httpClient, HTTPHeader: hdr})
	if err != nil {
		return
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	for _, ch := range channels {
		if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"join","room":"`+ch+`"}`)); err != nil {
			return
		}
	}
	joined := 0
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return
		}
		now := time.Now()
		if d, stamp, ok := stampOf(b, now); ok {
			col.sample(d, stamp)
			continue
		}
		var m struct {
			Type string `json:"type"`
		}
		json.Unmarshal(b, &m)
		if m.Type == "joined" {
			if joined++; joined == len(channels) {
				ready(true)
			}
		}
	}
}

func pollClient(ctx context.Context, base string, channels []string, user string, col *collector, ready func(bool)) {
	defer ready(false)
	last := ""
	for ctx.Err() == nil {
		q := streamPath("/api/poll", channels)
		if len(channels) == 1 {
			q += "?timeout=30000"
		} else {
			q += "&timeout=30000"
		}
		if last != "" {
			q += "&lastEventId=" + last
		}
		rctx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { ready(true) },
		})
		req, _ := http.NewRequestWithContext(rctx, "GET", base+q, nil)
		req.Header.Set("X-Load-User", user)
		resp, err := httpClient.Do(req)
		if err != nil {
			return
		}
		var body struct {
			Events      []json.RawMessage `json:"events"`
			LastEventID string            `json:"lastEventId"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			return
		}
		now := time.Now()
		for _, e := range body.Events {
			if d, stamp, ok := stampOf(e, now); ok {
				col.sample(d, stamp)
			}
		}
		last = body.LastEventID
	}
}
