package stages

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/detflow/detflow/storage"
)

// A stage that ends before the first poll must still report what it did:
// a bar finished at 0/N over a completed stage reads as a stale bar.
func TestWatchPartsCountsOnceMoreWhenStopped(t *testing.T) {
	ctx := context.Background()
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	dir := t.TempDir()
	got := -1
	stop := WatchParts(ctx, fsys, dir, map[string]int{"part-0": 3, "part-1": 4}, func(n int) { got = n })
	for _, name := range []string{"part-0", "part-1", "other"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	if got != 7 {
		t.Errorf("count after stop = %d, want 7", got)
	}
}
