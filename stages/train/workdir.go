package train

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/detflow/detflow/storage"
)

// localWork is the folder training keeps its working files in (checkpoints
// for resuming, the latest pointer, the JSON log): the stage's work folder
// itself when local. A gs:// work folder is mirrored by a folder in the
// user's cache directory, named after it, on the machine that trains:
// checkpoints are written and re-read often, and the safetensors writer and
// the resume logic work on local files. Each checkpoint is also copied up to
// the gs:// folder (pushWork), so a rerun resumes from the mirror on the
// same machine and from gs:// on another (pullWork); the outputs are
// published to gs:// as usual.
func localWork(work string) (string, error) {
	if !storage.IsGCS(work) {
		return work, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256([]byte(work))
	return filepath.Join(cache, "detflow", "work", hex.EncodeToString(sum[:8])), nil
}

// removeLocalMirror deletes the local mirror of a gs:// work folder once
// the outputs are published (the orchestrator removes the gs:// folder).
func removeLocalMirror(work, local string) error {
	if local == work {
		return nil
	}
	if err := os.RemoveAll(local); err != nil {
		return fmt.Errorf("train: remove local work folder %s: %w", local, err)
	}
	return nil
}

// pushWork copies a new checkpoint, then the log and the latest pointer,
// from the local mirror to the gs:// work folder, so that a run preempted
// on one machine resumes on another. The pointer goes last: it never names
// a checkpoint that is not there yet.
func pushWork(ctx context.Context, fsys *storage.FS, local, remote, checkpoint string) error {
	for _, name := range []string{checkpoint, logName, latestName} {
		err := uploadFile(ctx, fsys, filepath.Join(local, name), storage.Join(remote, name))
		if errors.Is(err, fs.ErrNotExist) && name == logName {
			continue // no logging interval has ended yet
		}
		if err != nil {
			return fmt.Errorf("train: mirror %s to %s: %w", name, remote, err)
		}
	}
	return nil
}

// pullWork updates the local mirror from the gs:// work folder when the
// remote latest pointer names a later epoch than the local one: it fetches
// that checkpoint and the log, then writes the pointer. It reports whether
// it fetched anything.
func pullWork(ctx context.Context, fsys *storage.FS, local, remote string) (bool, error) {
	latest, err := fsys.ReadFile(ctx, storage.Join(remote, latestName))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("train: read %s: %w", storage.Join(remote, latestName), err)
	}
	name := strings.TrimSpace(string(latest))
	remoteEpoch, ok := checkpointEpoch(name)
	if !ok {
		return false, fmt.Errorf("train: %s names %q, not a checkpoint file", storage.Join(remote, latestName), name)
	}
	if mine, err := os.ReadFile(filepath.Join(local, latestName)); err == nil {
		if e, ok := checkpointEpoch(strings.TrimSpace(string(mine))); ok && e >= remoteEpoch {
			return false, nil // this machine's mirror is as new
		}
	}
	for _, f := range []string{name, logName} {
		err := downloadFile(ctx, fsys, storage.Join(remote, f), filepath.Join(local, f))
		if errors.Is(err, fs.ErrNotExist) && f == logName {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("train: fetch %s from %s: %w", f, remote, err)
		}
	}
	if err := os.WriteFile(filepath.Join(local, latestName), latest, 0o644); err != nil {
		return false, fmt.Errorf("train: %w", err)
	}
	return true, nil
}

func uploadFile(ctx context.Context, fsys *storage.FS, src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := fsys.Create(ctx, dst)
	if err != nil {
		return err
	}
	defer w.Abort() // no-op after Commit
	if _, err := io.Copy(w, f); err != nil {
		return err
	}
	return w.Commit()
}

// downloadFile writes src to dst through a temporary file and a rename, so
// a crash mid-copy leaves no partial checkpoint under dst's name.
func downloadFile(ctx context.Context, fsys *storage.FS, src, dst string) error {
	r, err := fsys.Open(ctx, src)
	if err != nil {
		return err
	}
	defer r.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".fetch-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := io.Copy(tmp, r); err != nil {
		return errors.Join(err, tmp.Close())
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// checkpointEpoch parses checkpointName's "epoch_N.safetensors".
func checkpointEpoch(name string) (int, bool) {
	var n int
	if _, err := fmt.Sscanf(name, "epoch_%d.safetensors", &n); err != nil || checkpointName(n) != name {
		return 0, false
	}
	return n, true
}
