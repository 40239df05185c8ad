package stages

import (
	"context"
	"sync"
	"time"

	"github.com/detflow/detflow/storage"
)

// WatchParts reports a Beam stage's progress by polling which part files
// exist in dir: workers may run in other processes, so the output folder is
// what every runner shares. weights maps each expected file name to the
// units (images) it stands for; set gets the units done so far. The
// returned stop ends the poller and waits for it.
func WatchParts(ctx context.Context, fsys *storage.FS, dir string, weights map[string]int, set func(int)) (stop func()) {
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
				done += weights[in.Name]
			}
			set(done)
		}
	})
	return func() { cancel(); wg.Wait() }
}
