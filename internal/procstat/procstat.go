// Package procstat reads Linux's /proc for the load and capacity tools:
// the whole machine's CPU time (/proc/stat), to report how busy the machine
// was while they measured, and a process's CPU time and resident memory
// (/proc/PID/stat, /proc/PID/status), one copy for both tools.
package procstat

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ClockTick is the unit of /proc CPU times (USER_HZ, 100 on Linux).
const ClockTick = 10 * time.Millisecond

// Machine is the machine's CPU time: busy (user, nice, system, irq,
// softirq), idle (idle, iowait) and steal, the time the hypervisor ran
// someone else while this machine wanted a CPU.
type Machine struct{ Busy, Idle, Steal time.Duration }

// MachineNow reads /proc/stat; the zero Machine when it cannot.
func MachineNow() Machine {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return Machine{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return Machine{}
	}
	v := func(i int) time.Duration { n, _ := strconv.ParseInt(f[i], 10, 64); return time.Duration(n) * ClockTick }
	return Machine{Busy: v(1) + v(2) + v(3) + v(6) + v(7), Idle: v(4) + v(5), Steal: v(8)}
}

// Shares are the fractions of the window from m0 to m that the CPUs were
// busy, idle and stolen; ok is false for an empty window.
func (m Machine) Shares(m0 Machine) (busy, idle, steal float64, ok bool) {
	b, i, s := m.Busy-m0.Busy, m.Idle-m0.Idle, m.Steal-m0.Steal
	all := b + i + s
	if all <= 0 {
		return 0, 0, 0, false
	}
	return float64(b) / float64(all), float64(i) / float64(all), float64(s) / float64(all), true
}

// ProcessCPU is the CPU time (user + system) process pid has used; 0 when
// it cannot be read. With children, it adds the live children's and the
// reaped ones' (cutime, cstime): for a postmaster, the whole cluster.
func ProcessCPU(pid int, children bool) time.Duration {
	f := statFields(pid)
	if len(f) < 18 {
		return 0
	}
	t := field(f, 14) + field(f, 15)
	if children {
		t += field(f, 16) + field(f, 17)
		dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, d := range dirs {
			cpid, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
			cf := statFields(cpid)
			if len(cf) >= 18 && field(cf, 4) == int64(pid) {
				t += field(cf, 14) + field(cf, 15)
			}
		}
	}
	return time.Duration(t) * ClockTick
}

func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	return StatFields(string(b))
}

// StatFields splits a /proc/PID/stat line into its fields, numbered from 1
// as in proc(5) (utime is f[14]); the command name (field 2), which may
// hold spaces and parentheses, is left empty. Nil when the line is not one.
func StatFields(line string) []string {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return nil
	}
	return append([]string{"", "", ""}, strings.Fields(line[i+1:])...)
}

func field(f []string, n int) int64 {
	v, _ := strconv.ParseInt(f[n], 10, 64)
	return v
}

// RSS is process pid's resident set size in bytes (VmRSS); 0 when it cannot
// be read.
func RSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	return KBLine(string(b), "VmRSS")
}

// KBLine reads the "Name:   123 kB" line of text (as /proc/PID/status and
// /proc/meminfo write them), in bytes; 0 when there is none.
func KBLine(text, name string) int64 {
	for line := range strings.SplitSeq(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// RaiseFDLimit raises this process's open-file limit to want, raising the
// hard limit too when the process may (root), else as far as the hard
// limit; it returns the limit in force. The load and capacity tools hold
// tens of thousands of sockets.
func RaiseFDLimit(want uint64) syscall.Rlimit {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return l
	}
	if l.Max < want && syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: want, Max: want}) == nil {
		l.Cur, l.Max = want, want
		return l
	}
	l.Cur = l.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	return l
}
