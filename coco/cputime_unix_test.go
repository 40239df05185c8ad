//go:build unix

package coco

import (
	"syscall"
	"time"
)

// processCPUTime is the process's user+system CPU time, for benchmarks on a
// shared machine where wall time depends on other people's load.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
