//go:build unix

package detection

import "syscall"

// processCPUTime returns the user+system CPU time of the process in
// nanoseconds: on a shared machine it is a steadier measure than wall time.
func processCPUTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
