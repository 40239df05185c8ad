package evaluate

import (
	"context"
	"sync"
	"time"

	"github.com/detflow/detflow/storage"
)

// watchParts reports progress while the pipeline runs by polling which
// shards' detection parts exist: workers may be other processes, and the
// parts folder is what every runner shares. set gets the images done. The
// returned stop waits for the poller to end.
func watchParts(ctx context.Context, fsys *storage.FS, dir string, shards []shardRef, set func(int)) (stop func()) {
	rows := make(map[string]int, len(shards))
	for _, s := range shards {
		rows[partName(s.Index)] = s.Rows
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
				continue // best effort; the pipeline reports real errors
			}
			done := 0
			for _, in := range infos {
				done += rows[in.Name]
			}
			set(done)
		}
	})
	return func() { cancel(); wg.Wait() }
}
