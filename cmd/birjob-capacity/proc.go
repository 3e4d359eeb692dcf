package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/birjob/birjob/internal/procstat"
)

// procCPU is the CPU time a process has used so far (package procstat).
func procCPU(pid int) time.Duration { return procstat.ProcessCPU(pid, false) }

func rss(pid int) int64 { return procstat.RSS(pid) }

// fdCount is the number of descriptors a process holds open.
func fdCount(pid int) int {
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0
	}
	return len(es)
}

// fdLimit is a process's soft descriptor limit.
func fdLimit(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return "?"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, "Max open files") {
			f := strings.Fields(line)
			if len(f) >= 5 {
				return f[3]
			}
		}
	}
	return "?"
}

// slab is the kernel's slab memory (socket structures, file objects,
// dentries among it), in bytes.
func slab() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	return procstat.KBLine(string(b), "Slab")
}

// tcpMem is the memory held in TCP socket buffers, machine-wide, in bytes
// (the "mem" pages of /proc/net/sockstat).
func tcpMem() int64 {
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "TCP:"); ok {
			f := strings.Fields(rest)
			for i := 0; i+1 < len(f); i += 2 {
				if f[i] == "mem" {
					n, _ := strconv.ParseInt(f[i+1], 10, 64)
					return n * int64(os.Getpagesize())
				}
			}
		}
	}
	return 0
}

// machineCPU is the whole machine's CPU time (package procstat).
type machineCPU struct{ procstat.Machine }

func machineNow() machineCPU { return machineCPU{procstat.MachineNow()} }

// since describes a window: the share of the machine's CPUs busy and stolen.
func (m machineCPU) since(m0 machineCPU) string {
	busy, _, steal, ok := m.Shares(m0.Machine)
	if !ok {
		return "?"
	}
	return fmt.Sprintf("busy %.0f%%, steal %.1f%%", 100*busy, 100*steal)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func pct(cpu, wall time.Duration) string {
	if wall <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(cpu)/float64(wall))
}
