package evaluate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// TestEvaluateOnGCS runs every stage of the fixture and the evaluation
// with all inputs and outputs in a fake GCS bucket: ground truth, records,
// the checkpoint (which workers copy to a local file for the loader), the
// worker parts and the published files. Workers open their own storage,
// as they would in another process, and find the fake server through
// STORAGE_EMULATOR_HOST.
func TestEvaluateOnGCS(t *testing.T) {
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "data"})
	t.Setenv("STORAGE_EMULATOR_HOST", srv.URL())
	ctx := context.Background()
	// The driver reaches the server as a user points detflow at an
	// emulator; workers through STORAGE_EMULATOR_HOST.
	fsys, err := storage.New(ctx, storage.Options{Endpoint: srv.URL() + "/storage/v1/"})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	// The records stage's own workers do not reach an emulator yet (they
	// open storage without its endpoint), so the fixture is built locally
	// and uploaded; everything this stage reads and writes is on GCS.
	local := localFixture(t)
	f := &fixture{fsys: fsys, dataset: "gs://data/run/dataset", records: "gs://data/run/records", train: "gs://data/run/train"}
	for from, to := range map[string]string{local.dataset: f.dataset, local.records: f.records, local.train: f.train} {
		upload(t, fsys, from, to)
	}
	out := "gs://data/run/.tmp-evaluate"
	env := f.env(t, out, configs.Default)
	if err := (Stage{Load: loadGroundTruthModel}).Run(ctx, env); err != nil {
		t.Fatal(err)
	}
	metrics, err := schemas.Read[schemas.Metric](ctx, fsys, out+"/"+MetricsName, schemas.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	var mAP float64 = -2
	for _, m := range metrics {
		if m.Metric == "bbox_mAP" {
			mAP = m.Value
		}
	}
	if mAP < 1-1e-12 || mAP > 1 {
		t.Errorf("bbox_mAP on GCS = %v, want 1", mAP)
	}
	res, err := fsys.ReadFile(ctx, out+"/"+ResultsName("bbox"))
	if err != nil {
		t.Fatal(err)
	}
	if dets, err := coco.ReadResults(ctx, bytes.NewReader(res)); err != nil || len(dets) == 0 {
		t.Errorf("results file: %d detections, %v", len(dets), err)
	}
	files, err := fsys.ListRecursive(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fi := range files {
		names = append(names, strings.TrimPrefix(fi.Path, out+"/"))
		if strings.Contains(fi.Path, partsDir) {
			t.Errorf("worker part %s left behind", fi.Path)
		}
	}
	for _, want := range []string{DetectionsName, MetricsName, SummaryName, ResultsName("bbox")} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("outputs %v lack %s", names, want)
		}
	}
}

// upload copies a local folder tree to a gs:// folder.
func upload(t *testing.T, fsys *storage.FS, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = fsys.WriteFile(context.Background(), storage.Join(to, filepath.ToSlash(rel)), b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
