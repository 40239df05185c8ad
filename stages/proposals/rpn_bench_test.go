//go:build unix

package proposals

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/detflow/detflow/storage"
)

// BenchmarkRPNStageTinySynthetic runs method rpn with the rpn_tiny_synth
// model (untrained weights: inference costs the same) over 32 train and 32
// val synthetic images of 320x240 on prism, in process, with the default
// top k, and reports images/s (driver check, worker model loads and Beam
// start-up included) and CPU seconds per image. Run it once:
//
//	go test -run XXX -bench RPNStageTinySynthetic -benchtime 1x ./stages/proposals/
func BenchmarkRPNStageTinySynthetic(b *testing.B) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	root := b.TempDir()
	const train, val = 32, 32
	dsDir := runDataset(b, fsys, root, train, val)
	runDir := filepath.Join(root, "rpn_run")
	fakeRun(b, runDir, "rpn_tiny_synth", "")
	for b.Loop() {
		out := filepath.Join(root, "proposals", time.Now().Format("150405.000"))
		env := proposalsEnv(b, fsys, dsDir, out, "proposals.method=rpn", "proposals.rpn.checkpoint="+runDir)
		start, cpu0 := time.Now(), cpuSeconds()
		if err := (Stage{}).Run(ctx, env); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(train+val)/time.Since(start).Seconds(), "images/s")
		b.ReportMetric((cpuSeconds()-cpu0)/float64(train+val), "cpu_s/image")
	}
}
