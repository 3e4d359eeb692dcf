package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/birjob/birjob/internal/procstat"
)

// openSSE connects from src to a birjob node at addr (host:port on
// loopback), asks for the channel's stream and returns once the response
// head is read. The connection then stays idle: nothing reads it, so
// keepalives (a few bytes every 25 s) wait in the socket's buffer.
func openSSE(ctx context.Context, src net.IP, addr, channel string, timeout time.Duration) (net.Conn, error) {
	host, _, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() || !src.IsLoopback() {
		return nil, fmt.Errorf("loopback only, not %s from %s", addr, src)
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(timeout))
	fmt.Fprintf(conn, "GET /api/events/%s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", channel, addr)
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 1024), nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		conn.Close()
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	conn.SetDeadline(time.Time{})
	return conn, nil
}

// sseClientsMain is a client process of "idle": it opens -n idle SSE
// streams to -addr from the source addresses -src (in turn), printing
// "connected N" as it goes and "done N failed M: reasons" at the end, and
// holds them until its stdin closes. It gives up after -give-up failures in
// a row (the node has stopped accepting).
func sseClientsMain(args []string) error {
	fs := flag.NewFlagSet("sse-clients", flag.ExitOnError)
	addr := fs.String("addr", "", "the node's host:port (loopback)")
	n := fs.Int("n", 1000, "streams to open")
	srcs := fs.String("src", "127.0.0.2", "source addresses, comma-separated, used in turn")
	par := fs.Int("parallel", 64, "connections being opened at once")
	giveUp := fs.Int("give-up", 300, "stop after this many failures in a row")
	timeout := fs.Duration("timeout", 15*time.Second, "bound on connecting and reading the response head")
	fs.Parse(args)
	lim := procstat.RaiseFDLimit(250_000)
	var src []net.IP
	for s := range strings.SplitSeq(*srcs, ",") {
		ip := net.ParseIP(s)
		if ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("source %q is not a loopback address", s)
		}
		src = append(src, ip)
	}
	if *n > int(lim.Cur)-50 {
		fmt.Printf("note: %d streams asked, descriptor limit %d\n", *n, lim.Cur)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu       sync.Mutex
		conns    []net.Conn
		failed   int
		inRow    atomic.Int64
		reasons  = map[string]int{}
		next     atomic.Int64
		wg       sync.WaitGroup
		progress atomic.Int64
	)
	for range *par {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(*n) {
					return
				}
				c, err := openSSE(ctx, src[int(i)%len(src)], *addr, "jobs", *timeout)
				mu.Lock()
				if err != nil {
					failed++
					reasons[reason(err)]++
					mu.Unlock()
					if inRow.Add(1) >= int64(*giveUp) {
						cancel()
					}
					continue
				}
				inRow.Store(0)
				conns = append(conns, c)
				k := len(conns)
				mu.Unlock()
				if k%1000 == 0 && progress.Swap(int64(k)) < int64(k) {
					fmt.Printf("connected %d\n", k)
				}
			}
		})
	}
	wg.Wait()
	var rs []string
	for r, k := range reasons {
		rs = append(rs, fmt.Sprintf("%d× %s", k, r))
	}
	fmt.Printf("done %d failed %d: %s\n", len(conns), failed, strings.Join(rs, "; "))
	// Hold the streams until the parent closes stdin.
	buf := make([]byte, 1)
	for {
		if _, err := os.Stdin.Read(buf); err != nil {
			break
		}
	}
	for _, c := range conns {
		c.Close()
	}
	return nil
}

// reason names a connection failure without its addresses, so that
// failures group.
func reason(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "too many open files"):
		return "this process's descriptor limit"
	case strings.Contains(err.Error(), "cannot assign requested address"):
		return "no ephemeral port left (EADDRNOTAVAIL)"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	case strings.Contains(err.Error(), "connection reset"):
		return "connection reset"
	case strings.Contains(err.Error(), "EOF"):
		return "closed before the response head (EOF)"
	}
	return err.Error()
}
