package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc/<pid>/stat CPU times (USER_HZ), which is
// 100 on every Linux this runs on.
const clockTick = 10 * time.Millisecond

// procCPU is the CPU time (user + system) a process has used. With
// children, it adds the live children's and the reaped ones' (cutime,
// cstime): for a postmaster, that is the whole cluster.
func procCPU(pid int, children bool) time.Duration {
	f := statFields(pid)
	if len(f) < 17 {
		return 0
	}
	t := field(f, 14) + field(f, 15)
	if children {
		t += field(f, 16) + field(f, 17)
		dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, d := range dirs {
			cpid, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
			cf := statFields(cpid)
			if len(cf) >= 17 && field(cf, 4) == int64(pid) {
				t += field(cf, 14) + field(cf, 15)
			}
		}
	}
	return time.Duration(t) * clockTick
}

// statFields splits /proc/<pid>/stat into its fields, numbered from 1 as in
// proc(5); the command name (field 2) may hold spaces and is skipped.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	// fields[0] is unused, [1] pid, [2] comm, [3] state, ...
	return append([]string{"", "", ""}, strings.Fields(s[i+1:])...)
}

func field(f []string, n int) int64 {
	v, _ := strconv.ParseInt(f[n], 10, 64)
	return v
}

// cpuUse is the CPU time three parties used during a window.
type cpuUse struct{ server, postgres, load time.Duration }

func cpuNow(serverPID, pgPID int) cpuUse {
	u := cpuUse{server: procCPU(serverPID, false), load: procCPU(os.Getpid(), false)}
	if pgPID > 0 {
		u.postgres = procCPU(pgPID, true)
	}
	return u
}

func (u cpuUse) sub(v cpuUse) cpuUse {
	return cpuUse{u.server - v.server, u.postgres - v.postgres, u.load - v.load}
}

// machineCPU is the whole machine's CPU time from /proc/stat: busy (user,
// nice, system, irq, softirq), idle (idle, iowait) and steal, the time the
// hypervisor ran someone else while this machine wanted a CPU.
type machineCPU struct{ busy, idle, steal time.Duration }

func machineNow() machineCPU {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return machineCPU{}
	}
	v := func(i int) time.Duration { n, _ := strconv.ParseInt(f[i], 10, 64); return time.Duration(n) * clockTick }
	return machineCPU{busy: v(1) + v(2) + v(3) + v(6) + v(7), idle: v(4) + v(5), steal: v(8)}
}

// share describes a window of machine time: how much of the CPUs was busy
// and how much was stolen.
func (m machineCPU) since(m0 machineCPU) string {
	busy, idle, steal := m.busy-m0.busy, m.idle-m0.idle, m.steal-m0.steal
	all := busy + idle + steal
	if all <= 0 {
		return "not measured"
	}
	return fmt.Sprintf("busy %.0f%%, idle %.0f%%, stolen by the hypervisor %.1f%%",
		100*float64(busy)/float64(all), 100*float64(idle)/float64(all), 100*float64(steal)/float64(all))
}
