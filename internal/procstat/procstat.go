// Package procstat reads the whole machine's CPU time from Linux's
// /proc/stat, for the load and capacity tools that report how busy the
// machine was while they measured.
package procstat

import (
	"os"
	"strconv"
	"strings"
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
