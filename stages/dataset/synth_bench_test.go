package dataset

import (
	"context"
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkSynthesize reports images/s of the whole stage (render, encode,
// atomic write) at the default size, on one worker and on all cores.
func BenchmarkSynthesize(b *testing.B) {
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			fsys := localFS(b)
			const perSplit = 16
			out := b.TempDir()
			b.ResetTimer()
			for range b.N {
				_, err := Synthesize(context.Background(), fsys, SynthOptions{Out: out, Train: perSplit, Val: perSplit, Seed: 1, Workers: workers})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(2*perSplit*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// BenchmarkRenderImage is the CPU cost of one 320x240 image without I/O.
func BenchmarkRenderImage(b *testing.B) {
	o, err := synthDefaults(SynthOptions{Out: "x", Train: 1})
	if err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		if _, err := renderImage(o, 0, i); err != nil {
			b.Fatal(err)
		}
	}
}
