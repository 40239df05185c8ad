package batch

import (
	"bytes"
	"context"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/schemas"
)

// BenchmarkLoader is the data loader on real photos: LOADER_PHOTOS names
// testdata/loader_photos.py's folder (skipped when unset). Per image: read
// the file, decode (image/jpeg), resize to the default config's 1333x800
// keep-ratio size, flip (flip_ratio 1), normalise; per batch of 2: pad to a
// multiple of 32 (Pad). A Loader runs it with GOMAXPROCS workers, 2 batches
// ahead; `-cpu 1` under `taskset -c 0` is the 1-core figure. Compare with
// testdata/bench_torchvision_loader.py on the same folder.
func BenchmarkLoader(b *testing.B) {
	dir := os.Getenv("LOADER_PHOTOS")
	if dir == "" {
		b.Skip("LOADER_PHOTOS unset (see testdata/loader_photos.py)")
	}
	cfg, err := configs.Load("faster_rcnn_r50_fpn_1x_coco", nil)
	if err != nil {
		b.Fatal(err)
	}
	o, err := FromConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	o.FlipRatio = 1
	for _, sub := range []string{"420", "444"} {
		b.Run(sub, func(b *testing.B) {
			files, err := filepath.Glob(filepath.Join(dir, sub, "*.jpg"))
			if err != nil || len(files) == 0 {
				b.Fatalf("no JPEG in %s/%s", dir, sub)
			}
			b.ResetTimer()
			benchLoad(b, files, o)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// benchLoad loads b.N images from files, in batches of 2, and pads them.
func benchLoad(b *testing.B, files []string, o Options) {
	produce := func(ctx context.Context, add AddFunc) error {
		for i := 0; i < b.N; i += 2 {
			var recs []*schemas.Record
			var rngs []*rand.Rand
			for j := i; j < min(i+2, b.N); j++ {
				rec, err := fileRecord(files[j%len(files)])
				if err != nil {
					return err
				}
				recs, rngs = append(recs, rec), append(rngs, rand.New(rand.NewPCG(1, uint64(j))))
			}
			if !add(recs, rngs) {
				return nil
			}
		}
		return nil
	}
	ld := NewLoader(context.Background(), o, true, runtime.GOMAXPROCS(0), 2, produce)
	defer ld.Stop()
	for l := range ld.Batches() {
		if l.Err != nil {
			b.Fatal(l.Err)
		}
		Pad(l.Items, o.SizeDivisor)
	}
}

// fileRecord reads an image file into a record.
func fileRecord(path string) (*schemas.Record, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, _, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return &schemas.Record{FileName: path, Image: raw, Width: int32(c.Width), Height: int32(c.Height)}, nil
}
