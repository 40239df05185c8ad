package proposals

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
	"github.com/detflow/detflow/storage/storagetest"
)

// TestFileMethodOnGCS runs the stage with every input and output on an
// in-process fake GCS server: descriptor, annotations, proposals files,
// part files and metrics.
func TestFileMethodOnGCS(t *testing.T) {
	ctx := context.Background()
	fsys := storagetest.FakeGCS(t, "data")
	upload := func(local, remote string) {
		b, err := os.ReadFile(filepath.Join("testdata", local))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fsys.WriteFile(ctx, remote, b); err != nil {
			t.Fatal(err)
		}
	}
	upload("gt.json", "gs://data/coco/annotations/gt.json")
	upload("detectron2.pkl", "gs://data/props/train.pkl")
	upload("mmdet3.pkl", "gs://data/props/val.pkl")
	desc := `{"source": "coco", "splits": [
	  {"name": "train", "annotations": "gs://data/coco/annotations/gt.json", "image_root": "gs://data/coco/train2017", "images": 3},
	  {"name": "val", "annotations": "gs://data/coco/annotations/gt.json", "image_root": "gs://data/coco/val2017", "images": 3}]}`
	if _, err := fsys.WriteFile(ctx, "gs://data/run/dataset/dataset.json", []byte(desc)); err != nil {
		t.Fatal(err)
	}
	out := "gs://data/run/.tmp-proposals"
	env := proposalsEnv(t, fsys, "gs://data/run/dataset", out, "proposals.method=file",
		"proposals.file.train=gs://data/props/train.pkl", "proposals.file.val=gs://data/props/val.pkl", "proposals.min_size=1")
	if err := (Stage{}).Run(ctx, env); err != nil {
		t.Fatal(err)
	}
	sp := fixtureSplit(t, fsys)
	for _, split := range []string{"train", "val"} {
		sp.Name = split
		set, err := schemas.OpenProposals(ctx, fsys, out+"/"+split)
		if err != nil {
			t.Fatal(err)
		}
		if set.Len() != 3 {
			t.Errorf("split %s: %d images, want 3", split, set.Len())
		}
		set.Close()
	}
	metrics, err := schemas.Read[schemas.Metric](ctx, fsys, out+"/"+MetricsName, schemas.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, m := range metrics {
		// The fixtures' box 0 is each image's ground truth box exactly.
		if m.IoUType == "proposal" && (m.Metric == "AR@100" || m.Metric == "AR@1000") {
			found++
			if m.Value != 1 {
				t.Errorf("%s %s = %v, want 1", m.Dataset, m.Metric, m.Value)
			}
		}
	}
	if found != 4 {
		t.Errorf("found %d AR@100/AR@1000 rows, want 4 (2 splits)", found)
	}
}

// TestSelectiveSearchOnGCS runs the Beam pipeline with images and outputs
// in a fake GCS bucket. The workers open their own storage (as they would
// in another process), so the fake server listens on a port and the
// workers find it through STORAGE_EMULATOR_HOST.
func TestSelectiveSearchOnGCS(t *testing.T) {
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "data"})
	t.Setenv("STORAGE_EMULATOR_HOST", srv.URL())
	ctx := context.Background()
	fsys, err := storage.New(ctx, storage.Options{Endpoint: srv.URL() + "/storage/v1/"})
	if err != nil {
		t.Fatal(err)
	}
	dsDir := runDataset(t, fsys, "gs://data/run", 1, 2)
	out := "gs://data/run/.tmp-proposals"
	env := proposalsEnv(t, fsys, dsDir, out, "proposals.top_k_test=20")
	if err := (Stage{}).Run(ctx, env); err != nil {
		t.Fatal(err)
	}
	set, err := schemas.OpenProposals(ctx, fsys, out+"/val")
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if set.Len() != 2 {
		t.Errorf("val: %d images with proposals, want 2", set.Len())
	}
	if ok, err := fsys.Exists(ctx, out+"/"+MetricsName); !ok || err != nil {
		t.Errorf("metrics: exists %v, err %v", ok, err)
	}
}
