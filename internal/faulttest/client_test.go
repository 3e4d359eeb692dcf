package faulttest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// The transports a client may speak.
const (
	trSSE  = "sse"
	trWS   = "ws"
	trPoll = "poll"
)

var transports = []string{trSSE, trWS, trPoll}

// clientHTTP is shared by every client: many idle connections per host, so
// that long polls reuse theirs.
var clientHTTP = &http.Client{Transport: &http.Transport{
	DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	MaxIdleConns:        4000,
	MaxIdleConnsPerHost: 4000,
	DisableCompression:  true,
}}

// client follows the public channel "jobs" over one transport. It starts
// at a given id and, whenever its stream ends or cannot be opened, resumes
// from the last id it received on the next node of its list (the other one
// of two), as the page does.
type client struct {
	tr    string
	nodes []string // base URLs, the first one first

	mu       sync.Mutex
	ids      []int64
	arrived  []time.Time
	last     int64
	problems []string        // duplicates, ids out of order, resets, errors
	up       bool            // subscribed now
	everUp   bool            // subscribed once
	down     time.Time       // when the last stream ended (zero while up)
	gaps     []time.Duration // from a stream's end to the next subscription
	drops    int
	refused  int // attempts to subscribe that failed (node down, refused, error status)
}

func newClient(tr string, from int64, nodes ...string) *client {
	return &client{tr: tr, nodes: nodes, last: from}
}

// run follows the channel until ctx ends.
func (c *client) run(ctx context.Context) {
	cur := 0
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		wasUp := c.stream(ctx, c.nodes[cur])
		if ctx.Err() != nil {
			return
		}
		c.mu.Lock()
		if c.up {
			c.up, c.down = false, time.Now()
			c.drops++
		}
		if !wasUp {
			c.refused++
		}
		c.mu.Unlock()
		cur = (cur + 1) % len(c.nodes)
		if wasUp {
			backoff = 50 * time.Millisecond
			continue // the other node at once
		}
		// A client's retry delay, with jitter so 1,000 clients do not
		// come back in step (not a synchronisation of the test).
		d := backoff/2 + rand.N(backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
		backoff = min(backoff*2, time.Second)
	}
}

func (c *client) stream(ctx context.Context, base string) bool {
	switch c.tr {
	case trSSE:
		return c.sse(ctx, base)
	case trWS:
		return c.ws(ctx, base)
	default:
		return c.poll(ctx, base)
	}
}

// subscribed records that a stream is up (a reconnection's gap, if any).
func (c *client) subscribed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.up {
		return
	}
	c.up, c.everUp = true, true
	if !c.down.IsZero() {
		c.gaps = append(c.gaps, time.Since(c.down))
		c.down = time.Time{}
	}
}

func (c *client) problem(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.problems) < 20 {
		c.problems = append(c.problems, fmt.Sprintf(format, args...))
	}
}

// add records an event; an id at or below the last one is a duplicate
// (or out of order) and is recorded as a problem as well as kept.
func (c *client) add(id int64, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id <= c.last && len(c.problems) < 20 {
		c.problems = append(c.problems, fmt.Sprintf("%s: id %d after %d (twice or out of order)", c.tr, id, c.last))
	}
	c.ids = append(c.ids, id)
	c.arrived = append(c.arrived, at)
	c.last = max(c.last, id)
}

func (c *client) lastID() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

func (c *client) isUp() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.up
}

// arrival returns when the client received id (zero if it did not).
func (c *client) arrival(id int64) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := slices.Index(c.ids, id); i >= 0 {
		return c.arrived[i]
	}
	return time.Time{}
}

// sse reads GET /api/events/jobs from the last id (Last-Event-ID).
func (c *client) sse(ctx context.Context, base string) (wasUp bool) {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/events/jobs", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Last-Event-ID", itoa(c.lastID()))
	resp, err := clientHTTP.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return false
	}
	br := bufio.NewReader(resp.Body)
	var id, event string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return wasUp
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			switch event {
			case "":
			case "connected":
				c.subscribed()
				wasUp = true
			case "reset", "session-ended":
				c.problem("sse: %s event (id %s)", event, id)
			default:
				n, err := strconv.ParseInt(id, 10, 64)
				if err != nil {
					c.problem("sse: %s event without an id", event)
				} else {
					c.add(n, time.Now())
				}
			}
			id, event = "", ""
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimSpace(line[3:])
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(line[6:])
		}
	}
}

// ws joins the room "jobs" on GET /api/ws from the last id.
func (c *client) ws(ctx context.Context, base string) (wasUp bool) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, _, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(base, "http")+"/api/ws", &websocket.DialOptions{HTTPClient: clientHTTP})
	cancel()
	if err != nil {
		return false
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	join := fmt.Sprintf(`{"type":"join","room":"jobs","lastEventId":"%d"}`, c.lastID())
	if err := conn.Write(ctx, websocket.MessageText, []byte(join)); err != nil {
		return false
	}
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return wasUp
		}
		var m struct {
			Type    string `json:"type"`
			ID      string `json:"id"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			c.problem("ws: %v in %.100s", err, b)
			continue
		}
		switch m.Type {
		case "welcome", "pong", "left":
		case "joined":
			c.subscribed()
			wasUp = true
		case "reset", "session-ended", "error":
			c.problem("ws: %.200s", b)
		default:
			n, err := strconv.ParseInt(m.ID, 10, 64)
			if err != nil {
				c.problem("ws: event without an id: %.200s", b)
				continue
			}
			c.add(n, time.Now())
		}
	}
}

// poll long-polls GET /api/poll/jobs from the last id until a request
// fails. The first poll on a node does not wait (timeout=0), so that its
// answer says at once that the client is served there.
func (c *client) poll(ctx context.Context, base string) (wasUp bool) {
	for hold := "0"; ctx.Err() == nil; hold = "15000" {
		rctx, cancel := context.WithTimeout(ctx, 40*time.Second)
		req, _ := http.NewRequestWithContext(rctx, "GET", base+"/api/poll/jobs?timeout="+hold+"&lastEventId="+itoa(c.lastID()), nil)
		resp, err := clientHTTP.Do(req)
		if err != nil {
			cancel()
			return wasUp
		}
		var body struct {
			Events []struct {
				ID   string `json:"id"`
				Type string `json:"type"`
			} `json:"events"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		cancel()
		if resp.StatusCode != 200 || err != nil {
			return wasUp
		}
		c.subscribed()
		wasUp = true
		now := time.Now()
		for _, e := range body.Events {
			if e.Type == "reset" {
				c.problem("poll: reset event (id %s)", e.ID)
				continue
			}
			n, err := strconv.ParseInt(e.ID, 10, 64)
			if err != nil {
				c.problem("poll: event without an id")
				continue
			}
			c.add(n, now)
		}
	}
	return wasUp
}
