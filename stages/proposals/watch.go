package proposals

import (
	"context"

	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/storage"
)

// watchParts reports progress from the part files as they appear in dir;
// set gets the images done.
func watchParts(ctx context.Context, fsys *storage.FS, dir string, parts []partSpec, set func(int)) (stop func()) {
	images := make(map[string]int, len(parts))
	for _, p := range parts {
		images[schemas.ProposalPartName(p.Index)] = len(p.Images)
	}
	return stages.WatchParts(ctx, fsys, dir, images, set)
}
