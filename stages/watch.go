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
// returned stop ends the poller and counts once more, so a bar finished
// right after stop shows what was really done, not the last second's count.
func WatchParts(ctx context.Context, fsys *storage.FS, dir string, weights map[string]int, set func(int)) (stop func()) {
	poll := func(ctx context.Context) {
		infos, err := fsys.List(ctx, dir)
		if err != nil {
			return // progress is best effort; the run reports real errors
		}
		done := 0
		for _, in := range infos {
			done += weights[in.Name]
		}
		set(done)
	}
	tickCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tickCtx.Done():
				return
			case <-tick.C:
			}
			poll(tickCtx)
		}
	})
	return func() {
		cancel()
		wg.Wait()
		poll(context.WithoutCancel(ctx))
	}
}
