package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/birjob/birjob/internal/procstat"
)

// idleMain opens up to -clients idle SSE streams on one birjob web node and
// reports, every -step streams, the node's descriptors, RSS, Go heap and
// goroutines and the kernel's slab and TCP buffer memory. The streams are
// opened by client processes of this binary (each holds at most what its
// descriptor limit allows), from the loopback source addresses -src in
// turn: one source address has about 28,000 ephemeral ports towards one
// server port. When the node stops accepting, the run reports how far it
// got and why.
func idleMain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("idle", flag.ExitOnError)
	clients := fs.Int("clients", 100_000, "idle SSE streams to open")
	step := fs.Int("step", 5000, "report every this many streams")
	perProc := fs.Int("per-process", 0, "streams per client process (0: this process's descriptor limit less 200)")
	srcs := fs.String("src", "127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9", "client source addresses")
	hold := fs.Duration("hold", 30*time.Second, "how long to hold the streams at the end (the node's CPU while idle)")
	par := fs.Int("parallel", 64, "streams being opened at once, per client process")
	binFlag(fs)
	fs.Parse(args)
	if *clients < 1 || *clients > 200_000 || *step < 1 || *hold > 10*time.Minute {
		return fmt.Errorf("1..200,000 clients, hold up to 10m")
	}
	lim := procstat.RaiseFDLimit(250_000)
	if *perProc <= 0 {
		*perProc = int(lim.Cur) - 200
	}
	dbURL, drop, err := scratchDB(ctx, "idle")
	if err != nil {
		return err
	}
	defer drop()
	n, err := startNode(ctx, "cap-idle", dbURL, nil)
	if err != nil {
		return err
	}
	defer n.stop()
	time.Sleep(2 * time.Second) // let start-up garbage go before the baseline
	base := sampleNode(n, 0)
	header("Idle SSE connections on one node")
	fmt.Printf("node %s: web role only, descriptor limit %s (this tool's: %d soft, %d hard); client processes of %d streams each, from %s\n",
		n.url, fdLimit(n.pid()), lim.Cur, lim.Max, *perProc, *srcs)
	fmt.Printf("ip_local_port_range %s, somaxconn %s\n\n", sysctl("net/ipv4/ip_local_port_range"), sysctl("net/core/somaxconn"))
	fmt.Println("| streams | node descriptors | node RSS | RSS per stream (above the empty node) | Go heap in use | goroutines | kernel slab per stream (both ends) | TCP buffers (machine) |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	base.print(base)

	var procs []*clientProc
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	total, nextStep := 0, *step
	var stopped string
	for total < *clients && stopped == "" && ctx.Err() == nil {
		want := min(*perProc, *clients-total)
		p, err := startClients(n.url, want, *srcs, *par)
		if err != nil {
			return err
		}
		procs = append(procs, p)
		stopped = "a client process ended without reporting"
		for line := range p.lines {
			if k, ok := strings.CutPrefix(line, "connected "); ok {
				c, _ := strconv.Atoi(k)
				for total+c >= nextStep {
					sampleNode(n, total+c).print(base)
					nextStep += *step
				}
				continue
			}
			if rest, ok := strings.CutPrefix(line, "done "); ok {
				var c, f int
				fmt.Sscanf(rest, "%d failed %d", &c, &f)
				total += c
				stopped = ""
				if f > 0 || c < want {
					_, why, _ := strings.Cut(rest, ": ")
					stopped = fmt.Sprintf("client process %d opened %d of %d streams, %d failed (%s); the node holds %d descriptors, its limit is %s",
						len(procs), c, want, f, why, fdCount(n.pid()), fdLimit(n.pid()))
				}
				break
			}
			fmt.Fprintln(os.Stderr, "clients:", line)
		}
	}
	end := sampleNode(n, total)
	end.print(base)
	cpu0, m0 := procCPU(n.pid()), machineNow()
	time.Sleep(*hold)
	cpu := procCPU(n.pid()) - cpu0
	fmt.Printf("\n%d streams open. Held %s: node CPU %s of a core (keepalives every 25 s and the peer checks), machine %s\n",
		total, *hold, pct(cpu, *hold), machineNow().since(m0))
	if stopped != "" {
		fmt.Printf("stopped: %s\n", stopped)
		c := http.Client{Timeout: 5 * time.Second}
		if resp, err := c.Get(n.url + "/healthz"); err != nil {
			fmt.Printf("the node's /healthz at this point: no answer within 5 s (%v)\n", reason(err))
		} else {
			resp.Body.Close()
			fmt.Printf("the node's /healthz at this point: %s\n", resp.Status)
		}
	}
	if total > 0 && total < *clients {
		fmt.Printf("extrapolated to %d streams: node RSS %s, descriptors %d\n", *clients,
			mib(base.rss+(end.rss-base.rss)*int64(*clients)/int64(total)), base.fds+(end.fds-base.fds)**clients/total)
	}
	if es := n.errors(); len(es) > 0 {
		fmt.Fprintf(os.Stderr, "node warned: %s\n", strings.Join(es, "; "))
	}
	return nil
}

type nodeSample struct {
	streams, fds, goroutines int
	rss, heap, slab, tcp     int64
	answered                 bool // the node answered /metrics
}

func sampleNode(n *node, streams int) nodeSample {
	m := n.metrics()
	_, ok := m["go_goroutines"]
	return nodeSample{streams: streams, fds: fdCount(n.pid()), goroutines: int(m["go_goroutines"]), answered: ok,
		rss: rss(n.pid()), heap: int64(m["go_memstats_heap_inuse_bytes"]), slab: slab(), tcp: tcpMem()}
}

func (s nodeSample) print(base nodeSample) {
	per, slabPer := "—", "—"
	if s.streams > 0 {
		per = fmt.Sprintf("%.2f KB", float64(s.rss-base.rss)/float64(s.streams)/1024)
		slabPer = fmt.Sprintf("%.2f KB", float64(s.slab-base.slab)/float64(s.streams)/1024)
	}
	heap, gor := mib(s.heap), fmt.Sprint(s.goroutines)
	if !s.answered {
		heap, gor = "no answer", "no answer"
	}
	fmt.Printf("| %d | %d | %s | %s | %s | %s | %s | %s |\n", s.streams, s.fds, mib(s.rss), per, heap, gor, slabPer, mib(s.tcp))
}

// clientProc is one sse-clients process.
type clientProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan struct{}
}

func startClients(nodeURL string, n int, srcs string, par int) (*clientProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "sse-clients", "-addr", strings.TrimPrefix(nodeURL, "http://"),
		"-n", strconv.Itoa(n), "-src", srcs, "-parallel", strconv.Itoa(par))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &clientProc{cmd: cmd, stdin: stdin, lines: make(chan string, 64), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop closes the process's stdin (it closes its streams and exits) and
// waits for it.
func (p *clientProc) stop() {
	p.stdin.Close()
	go func() {
		for range p.lines {
		}
	}()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func sysctl(name string) string {
	b, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b)), " ")
}
