package dataset

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
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

func TestStageValidatesUserCOCOSet(t *testing.T) {
	ctx := context.Background()
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if _, err := Synthesize(ctx, fsys, SynthOptions{Out: root, Train: 3, Val: 2, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	sets := []string{"dataset.source=coco", "dataset.root=" + root,
		"dataset.train_ann=annotations/instances_train.json", "dataset.train_images=train",
		"dataset.val_ann=annotations/instances_val.json", "dataset.val_images=val"}
	cfg, err := configs.Load(configs.Default, sets)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	env := &stages.Env{FS: fsys, Config: cfg, Out: out, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := (Stage{}).Run(ctx, env); err != nil {
		t.Fatal(err)
	}
	d, err := ReadDescriptor(ctx, fsys, out)
	if err != nil {
		t.Fatal(err)
	}
	val, err := d.Split("val")
	if err != nil || val.Images != 2 || val.Annotations != filepath.Join(root, "annotations/instances_val.json") {
		t.Fatalf("val split %+v, %v", val, err)
	}

	// A missing image fails the stage with the rule and the file named.
	if err := os.Remove(filepath.Join(root, "val", "000000000002.jpg")); err != nil {
		t.Fatal(err)
	}
	err = (Stage{}).Run(ctx, &stages.Env{FS: fsys, Config: cfg, Out: t.TempDir(), Log: env.Log})
	if err == nil || !strings.Contains(err.Error(), "val split") || !strings.Contains(err.Error(), "000000000002.jpg") {
		t.Fatalf("error = %v, want the missing val image named", err)
	}
}
