package detector

import (
	"runtime"

	"github.com/detflow/detflow/internal/team"
)

// forEachImage runs fn(i) for i in [0, n) on up to GOMAXPROCS goroutines and
// returns the error of the lowest failing i. The per-image host work (NMS,
// decoding) is independent across images and dominates the proposal layer.
func forEachImage(n int, fn func(i int) error) error {
	errs := make([]error, n)
	team.For(runtime.GOMAXPROCS(0), n, func(_, i int) { errs[i] = fn(i) })
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
