package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// The benches' CPU accounting. On the 2-core machine the engine, the ClickHouse server, the
// broker and the bench's producer share the cores, so a rate says little without where the
// CPU went: the ratios against clickhouse-client move with what else ran (docs/benchmarks.md).

// clockTicks is the unit of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux).
const clockTicks = 100

// cpuSecs is a process's user and system CPU time so far, 0 when it cannot be read.
func cpuSecs(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command may hold spaces and parentheses: the fields follow its last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	// Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the command.
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return float64(u+st) / clockTicks
}

// serverPIDs are the clickhouse-server processes on this machine (none when ClickHouse runs
// elsewhere; the bench's server is then not accounted).
func serverPIDs() []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err == nil && strings.HasPrefix(strings.TrimSpace(string(comm)), "clickhouse-serv") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// cpuSample is the CPU time of the processes a bench run involves, at one instant.
type cpuSample struct {
	engine, server, broker, bench float64
}

// sampleCPU reads the CPU time of the engine, the local ClickHouse servers, the broker (0: none
// of its own) and this process (the producer).
func sampleCPU(engine, broker int) cpuSample {
	s := cpuSample{engine: cpuSecs(engine), bench: cpuSecs(os.Getpid())}
	if broker > 0 {
		s.broker = cpuSecs(broker)
	}
	for _, pid := range serverPIDs() {
		s.server += cpuSecs(pid)
	}
	return s
}

// cpuUse is the CPU spent between two samples over records records and secs seconds.
type cpuUse struct {
	cpuSample
	records uint64
	secs    float64
}

func cpuBetween(a, b cpuSample, records uint64, secs float64) cpuUse {
	return cpuUse{cpuSample: cpuSample{engine: b.engine - a.engine, server: b.server - a.server, broker: b.broker - a.broker, bench: b.bench - a.bench},
		records: records, secs: secs}
}

// String says the CPU per record of each process and how many cores were busy in all.
func (c cpuUse) String() string {
	if c.records == 0 || c.secs <= 0 {
		return "cpu not measured"
	}
	per := func(s float64) float64 { return s / float64(c.records) * 1e6 }
	out := fmt.Sprintf("cpu per record: engine %.1f µs, ClickHouse %.1f µs", per(c.engine), per(c.server))
	if c.broker > 0 {
		out += fmt.Sprintf(", broker %.1f µs", per(c.broker))
	}
	out += fmt.Sprintf(", bench %.1f µs; cores busy %.2f", per(c.bench), (c.engine+c.server+c.broker+c.bench)/c.secs)
	return out
}
