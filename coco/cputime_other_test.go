//go:build !unix

package coco

import "time"

// processCPUTime is unknown here; benchmarks then report 0 CPU seconds.
func processCPUTime() time.Duration { return 0 }
