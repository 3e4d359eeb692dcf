package main

import (
	"fmt"
	"github.com/birjob/birjob/internal/procstat"
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

// machineCPU is the whole machine's CPU time (package procstat).
type machineCPU struct{ procstat.Machine }

func machineNow() machineCPU { return machineCPU{procstat.MachineNow()} }

// since describes a window of machine time: how much of the CPUs was
// busy, idle and stolen.
func (m machineCPU) since(m0 machineCPU) string {
	busy, idle, steal, ok := m.Shares(m0.Machine)
	if !ok {
		return "not measured"
	}
	return fmt.Sprintf("busy %.0f%%, idle %.0f%%, stolen by the hypervisor %.1f%%", 100*busy, 100*idle, 100*steal)
}
