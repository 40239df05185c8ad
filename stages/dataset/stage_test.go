package dataset

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/storage"
)

func TestStageWritesSyntheticSetAndDescriptor(t *testing.T) {
	ctx := context.Background()
	cfg, err := configs.Load(configs.Default, []string{"dataset.synthetic.train=3", "dataset.synthetic.val=2"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Model.RoIHead.BBoxHead.NumClasses, len(SynthCategories()); got != want {
		t.Errorf("%s: model.roi_head.bbox_head.num_classes = %d, the synthetic set has %d categories", configs.Default, got, want)
	}
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	env := &stages.Env{FS: fsys, Config: cfg, Out: out, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := (Stage{}).Run(ctx, env); err != nil {
		t.Fatal(err)
	}
	b, err := fsys.ReadFile(ctx, filepath.Join(out, DescriptorName))
	if err != nil {
		t.Fatal(err)
	}
	var d Descriptor
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"train": 3, "val": 2}
	for _, sp := range d.Splits {
		if sp.Images != want[sp.Name] {
			t.Errorf("split %s: %d images, want %d", sp.Name, sp.Images, want[sp.Name])
		}
		if _, err := fsys.Stat(ctx, filepath.Join(out, sp.Annotations)); err != nil {
			t.Errorf("split %s: annotations %q: %v", sp.Name, sp.Annotations, err)
		}
	}
	if len(d.Splits) != 2 {
		t.Errorf("descriptor lists %d splits, want 2", len(d.Splits))
	}
}
