package main

import (
	"fmt"
	"github.com/birjob/birjob/internal/procstat"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc CPU times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// procCPU is the CPU time (user + system) a process has used so far.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	// After the command name: field 3 (state) is f[0], so utime (14) and
	// stime (15) are f[11] and f[12].
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * clockTick
}

// statusKB reads a "Name:   123 kB" line of /proc/PID/status, in bytes.
func statusKB(pid int, name string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	return kbLine(string(b), name)
}

func kbLine(text, name string) int64 {
	for line := range strings.SplitSeq(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func rss(pid int) int64 { return statusKB(pid, "VmRSS") }

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
	return kbLine(string(b), "Slab")
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
