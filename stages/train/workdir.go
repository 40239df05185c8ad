package train

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/detflow/detflow/storage"
)

// localWork is the folder training keeps its working files in (checkpoints
// for resuming, the latest pointer, the JSON log): the stage's work folder
// itself when local. A gs:// work folder is mirrored by a folder in the
// user's cache directory, named after it, on the machine that trains:
// checkpoints are written and re-read often, and the safetensors writer and
// the resume logic work on local files. A rerun on the same machine resumes
// from it; the outputs are published to gs:// as usual.
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
