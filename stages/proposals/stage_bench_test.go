//go:build unix

package proposals

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// BenchmarkStageDefaultSynthetic runs the stage with the default config
// (selective search, fast mode) on the default synthetic set (1000 train +
// 200 val images of 320x240) on prism, in process, and reports images/s
// over both splits and the val recall. Run it once:
//
//	go test -run XXX -bench StageDefaultSynthetic -benchtime 1x ./stages/proposals/
func BenchmarkStageDefaultSynthetic(b *testing.B) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	cfg, err := configs.Load(configs.Default, nil)
	if err != nil {
		b.Fatal(err)
	}
	root := b.TempDir()
	dsDir := runDataset(b, fsys, root, cfg.Dataset.Synthetic.Train, cfg.Dataset.Synthetic.Val)
	images := cfg.Dataset.Synthetic.Train + cfg.Dataset.Synthetic.Val
	var metrics []schemas.Metric
	for i := 0; b.Loop(); i++ {
		out := filepath.Join(root, "proposals", time.Now().Format("150405.000"))
		env := proposalsEnv(b, fsys, dsDir, out)
		start, cpu0 := time.Now(), cpuSeconds()
		if err := (Stage{}).Run(ctx, env); err != nil {
			b.Fatal(err)
		}
		// On a shared machine wall time depends on the neighbours; CPU
		// seconds per image do not.
		b.ReportMetric(float64(images)/time.Since(start).Seconds(), "images/s")
		b.ReportMetric((cpuSeconds()-cpu0)/float64(images), "cpu_s/image")
		if metrics, err = schemas.Read[schemas.Metric](ctx, fsys, filepath.Join(out, MetricsName), schemas.Metrics); err != nil {
			b.Fatal(err)
		}
	}
	for _, m := range metrics {
		if m.Dataset == "val" && (m.IoUType == "proposal" || m.Metric == "proposals_per_image") {
			b.ReportMetric(m.Value, "val_"+m.Metric)
		}
	}
}

// cpuSeconds is the user plus system CPU time of this process.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
