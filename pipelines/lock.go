package pipelines

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// runLock is an exclusive lock on a local run directory. It is an flock(2) on
// runs/<run>/.lock, so the kernel drops it when its holder dies, even by
// SIGKILL: a stale lock file never blocks a later run.
type runLock struct{ f *os.File }

// lockRunDir takes the run directory's lock or says who holds it.
func lockRunDir(runDir string) (*runLock, error) {
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return nil, fmt.Errorf("create run directory: %w", err)
	}
	p := filepath.Join(runDir, ".lock")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open run lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(p)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("run directory %s is in use by another pipeline run (%s); wait for it or stop it",
				runDir, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("lock run directory %s: %w", runDir, err)
	}
	// Record the holder for the message above; a leftover record from a
	// killed run is simply overwritten.
	host, _ := os.Hostname()
	rec := fmt.Sprintf("pid %d on %s since %s", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(rec+"\n"), 0)
	}
	return &runLock{f: f}, nil
}

func (l *runLock) unlock() error {
	return l.f.Close() // closing the descriptor releases the flock
}
