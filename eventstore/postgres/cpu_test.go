package postgres

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// clockTick is the unit of the CPU times in /proc/<pid>/stat (USER_HZ,
// 100 on Linux).
const clockTick = 10 * time.Millisecond

// cpuNow returns the CPU time used so far by this process and by the
// PostgreSQL server of pool (its postmaster and the postmaster's children,
// read from /proc); 0 when the server's cannot be read (not Linux, the
// server on another machine, no permission).
func cpuNow(pool *pgxpool.Pool) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	self := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	var dir string
	if err := pool.QueryRow(context.Background(), `SHOW data_directory`).Scan(&dir); err != nil {
		return 0
	}
	pid, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	postmaster, _, _ := strings.Cut(string(pid), "\n")
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var ticks int64
	for _, p := range procs {
		stat, err := os.ReadFile(filepath.Join("/proc", p.Name(), "stat"))
		if err != nil {
			continue // not a process, or it has ended
		}
		// pid (comm) state ppid ... utime stime: fields 4, 14 and 15.
		end := strings.LastIndex(string(stat), ") ")
		if end < 0 {
			continue
		}
		f := strings.Fields(string(stat)[end+2:])
		if len(f) < 13 || (p.Name() != postmaster && f[1] != postmaster) {
			continue
		}
		user, _ := strconv.ParseInt(f[11], 10, 64)
		sys, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += user + sys
	}
	return self + time.Duration(ticks)*clockTick
}
