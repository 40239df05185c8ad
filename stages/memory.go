package stages

import (
	"os"
	"strconv"
	"strings"
)

// PeakRSSMiB is the process's peak resident set (Linux VmHWM) in MiB, or 0
// where the kernel does not report it.
func PeakRSSMiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb / 1024
		}
	}
	return 0
}
