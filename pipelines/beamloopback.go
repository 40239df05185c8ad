package pipelines

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// loopbackPrefix names the empty placeholder the Beam Go SDK's universal
// runner (prism, in process) creates in os.TempDir() in loopback mode as
// the "worker binary", and neither removes nor closes (runnerlib.Execute,
// Beam 2.77; apache/beam#27569): a file per Beam job, 245 after a test
// campaign.
const loopbackPrefix = "beamloopbackworker-"

// privateTempDir points TMPDIR at a fresh folder while a stage runs, so the
// placeholders its Beam jobs leave are told apart from those of other
// processes (which may still be staging theirs). The returned function
// removes them, the folder when it is then empty, and restores TMPDIR.
// Stages run one at a time per process, as the CLI runs them.
func privateTempDir() (cleanup func() error, err error) {
	orig, had := os.LookupEnv("TMPDIR")
	dir, err := os.MkdirTemp("", "detflow-stage-")
	if err != nil {
		return nil, fmt.Errorf("create stage temp folder: %w", err)
	}
	if err := os.Setenv("TMPDIR", dir); err != nil {
		return nil, errors.Join(err, os.Remove(dir))
	}
	return func() error {
		var errs []error
		if had {
			errs = append(errs, os.Setenv("TMPDIR", orig))
		} else {
			errs = append(errs, os.Unsetenv("TMPDIR"))
		}
		errs = append(errs, removeLoopbackFiles(dir))
		// Left in place when a stage kept other files there.
		if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) && !isNotEmpty(err) {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}, nil
}

// removeLoopbackFiles deletes the placeholders in dir. Their *os.File is
// unreachable inside the SDK, so a collection lets its finalizer close the
// descriptor; closing the number here could close a reused descriptor.
func removeLoopbackFiles(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), loopbackPrefix) {
			errs = append(errs, os.Remove(filepath.Join(dir, e.Name())))
		}
	}
	runtime.GC()
	return errors.Join(errs...)
}

func isNotEmpty(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "not empty")
}
