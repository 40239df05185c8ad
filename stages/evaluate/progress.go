package evaluate

import (
	"context"

	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/storage"
)

// watchParts reports progress from the shards' detection parts as they
// appear in dir; set gets the images done.
func watchParts(ctx context.Context, fsys *storage.FS, dir string, shards []shardRef, set func(int)) (stop func()) {
	rows := make(map[string]int, len(shards))
	for _, s := range shards {
		rows[partName(s.Index)] = s.Rows
	}
	return stages.WatchParts(ctx, fsys, dir, rows, set)
}
