package proposals

import (
	"context"
	"sync"
	"time"

	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// watchParts reports progress while a pipeline runs by polling which part
// files exist (workers may run in other processes, so the folder is the one
// thing every runner shares). set gets the number of images done. The
// returned stop waits for the poller to end.
func watchParts(ctx context.Context, fsys *storage.FS, dir string, parts []partSpec, set func(int)) (stop func()) {
	images := make(map[string]int, len(parts))
	for _, p := range parts {
		images[schemas.ProposalPartName(p.Index)] = len(p.Images)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			infos, err := fsys.List(ctx, dir)
			if err != nil {
				continue // progress is best effort; the run reports real errors
			}
			done := 0
			for _, in := range infos {
				done += images[in.Name]
			}
			set(done)
		}
	})
	return func() { cancel(); wg.Wait() }
}
