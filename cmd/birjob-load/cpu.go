package main

import (
	"fmt"
	"os"
	"time"

	"github.com/birjob/birjob/internal/procstat"
)

// procCPU is the CPU time a process has used (package procstat); with
// children, its children's too.
func procCPU(pid int, children bool) time.Duration { return procstat.ProcessCPU(pid, children) }

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
