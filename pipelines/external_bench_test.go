package pipelines

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/detflow/detflow/stages/dataset"
)

// BenchmarkNoOpRerunExternalFolder times a rerun that finds everything up to
// date when the dataset stage reads an image folder of n files: one stat
// per file and a cache lookup, no reads.
//
//	go test ./pipelines -run '^$' -bench NoOpRerunExternalFolder -benchtime 5x
func BenchmarkNoOpRerunExternalFolder(b *testing.B) {
	for _, n := range []int{1000, 120_000} {
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			ctx := context.Background()
			work, data := b.TempDir(), b.TempDir()
			imageFolder(b, filepath.Join(data, "train2017"), n)
			imageFolder(b, filepath.Join(data, "val2017"), 1)
			if err := os.WriteFile(filepath.Join(data, "ann.json"), []byte("{}"), 0o644); err != nil {
				b.Fatal(err)
			}
			p := testPipeline(b, "", func(s *testStage) {
				if s.name == "dataset" {
					s.external = dataset.Stage{}.External
				}
			})
			cfg := loadConfig(b, "dataset.source=coco", "dataset.root="+data, "dataset.train_images=train2017", "dataset.val_images=val2017",
				"dataset.train_ann=ann.json", "dataset.val_ann=ann.json")
			fsys := newFS(b)
			if _, err := Execute(ctx, fsys, p, cfg, testOptions(work)); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				res, err := Execute(ctx, fsys, p, cfg, testOptions(work))
				if err != nil {
					b.Fatal(err)
				}
				if s := res.Stages[0]; s.Outcome != "skipped" {
					b.Fatalf("dataset %s on a no-op rerun", s.Outcome)
				}
			}
		})
	}
}

// imageFolder writes n small distinct files in 1000-file subfolders, dated
// an hour back (outside the stat cache's racy window).
func imageFolder(b *testing.B, dir string, n int) {
	old := time.Now().Add(-time.Hour)
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("%03d", i/1000), fmt.Sprintf("%012d.jpg", i))
		if i%1000 == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(p, fmt.Appendf(nil, "image %d", i), 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			b.Fatal(err)
		}
	}
}
