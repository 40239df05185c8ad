package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages/records"
)

// TestPrefetchedBatchesEqualSerial: the loader's batches, prepared on 4
// goroutines ahead of use, are the ones the serial loop (each image
// prepared where it is grouped, as the trainer did before prefetching)
// makes, to the last bit, for two epochs.
func TestPrefetchedBatchesEqualSerial(t *testing.T) {
	fsys, cfg, recDir := trainInputs(t)
	ctx := context.Background()
	rd, err := records.Open(ctx, fsys, recDir, "train")
	if err != nil {
		t.Fatal(err)
	}
	o, err := batch.FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for epoch := range 2 {
		var serial [][]*batch.Item
		err := epochBatches(rd, epoch, 2, 7)(ctx, func(recs []*schemas.Record, rngs []*rand.Rand) bool {
			var items []*batch.Item
			for i, r := range recs {
				it, err := batch.Prepare(r, o, true, rngs[i])
				if err != nil {
					t.Fatal(err)
				}
				items = append(items, it)
			}
			serial = append(serial, items)
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		ld := batch.NewLoader(ctx, o, true, 4, loadAhead, epochBatches(rd, epoch, 2, 7))
		k := 0
		for b := range ld.Batches() {
			if b.Err != nil || k >= len(serial) {
				t.Fatalf("epoch %d batch %d: error %v, %d serial batches", epoch, k, b.Err, len(serial))
			}
			for i, it := range b.Items {
				if !sameItem(it, serial[k][i]) {
					t.Fatalf("epoch %d batch %d item %d: prefetched differs from serial", epoch, k, i)
				}
			}
			k++
		}
		ld.Stop()
		if k != len(serial) || k != 4 {
			t.Fatalf("epoch %d: %d prefetched batches, %d serial, want 4", epoch, k, len(serial))
		}
	}
}

func sameItem(a, b *batch.Item) bool {
	return a.ImageID == b.ImageID && a.Flipped == b.Flipped && a.W == b.W && a.H == b.H &&
		sameBits(a.Pixels, b.Pixels) && sameBits(a.GTBoxes, b.GTBoxes) && sameBits(a.Proposals, b.Proposals)
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestStageCrashLeavesNoLoaderGoroutine: a run that stops at its second
// step, with batches queued ahead, returns with no loader goroutine left.
func TestStageCrashLeavesNoLoaderGoroutine(t *testing.T) {
	fsys, cfg, recDir := trainInputs(t)
	_, _, err := runStage(t, fsys, cfg, recDir, filepath.Join(t.TempDir(), "work"), toyFactory(0, 2))
	if !errors.Is(err, errCrash) {
		t.Fatalf("run: %v, want the simulated crash", err)
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, f := range []string{"batch.(*Loader)", "train.epochBatches", "batch.Prepare"} {
		if strings.Contains(stacks, f) {
			t.Fatalf("a goroutine in %s outlived the run:\n%s", f, stacks)
		}
	}
}
