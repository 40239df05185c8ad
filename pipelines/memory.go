package pipelines

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/metrics"
	"runtime/pprof"
	"time"

	"github.com/detflow/detflow/stages"
)

// HeapProfileEnv names a folder: when set, each stage writes a heap profile
// (go tool pprof) to <folder>/<stage>.heap.pprof whenever its live heap
// reaches a new high, so the last one written shows the stage at its peak.
const HeapProfileEnv = "DETFLOW_HEAP_PROFILE"

// watchMemory follows one stage's memory: it starts the heap profiler when
// HeapProfileEnv asks for it, and stop returns the process's peak resident
// set so far in MiB (0 where the kernel does not report it). The peak is
// not reset per stage: resetting the kernel's high-water mark also hides
// earlier stages' peaks from /usr/bin/time and getrusage.
func watchMemory(stage string, log *slog.Logger) (stop func() int64) {
	stopProfile := func() {}
	if dir := os.Getenv(HeapProfileEnv); dir != "" {
		stopProfile = profileHeapPeaks(filepath.Join(dir, stage+".heap.pprof"), log)
	}
	return func() int64 {
		stopProfile()
		return stages.PeakRSSMiB()
	}
}

// profileHeapPeaks writes a heap profile to path each time the live heap
// grows past its previous high by a margin (a profile costs tens of
// milliseconds), until the returned function is called.
func profileHeapPeaks(path string, log *slog.Logger) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		var high uint64
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if live := liveHeapBytes(); live > high+high/20+8<<20 {
				high = live
				if err := writeHeapProfile(path); err != nil {
					log.Warn("heap profile", "err", err)
					return
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// liveHeapBytes is the bytes in live and not yet swept heap objects.
func liveHeapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func writeHeapProfile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
