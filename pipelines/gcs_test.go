package pipelines

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/detflow/detflow/rundir"
	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/stages/train"
	"github.com/detflow/detflow/storage"
	"github.com/detflow/detflow/storage/storagetest"
)

// TestRunOnGCS runs, reruns and republishes a pipeline whose work directory
// is a gs:// bucket, on an in-process fake GCS server.
func TestRunOnGCS(t *testing.T) {
	ctx := context.Background()
	fsys := storagetest.FakeGCS(t, "exp")
	counter := filepath.Join(t.TempDir(), "count")
	p := testPipeline(t, counter, nil)
	opts := testOptions("gs://exp/runs")
	if _, err := Execute(ctx, fsys, p, loadConfig(t), opts); err != nil {
		t.Fatal(err)
	}
	if got := runsOf(t, counter); !slices.Equal(got, p.StageNames()) {
		t.Fatalf("first run ran %v", got)
	}
	if _, err := Execute(ctx, fsys, p, loadConfig(t), opts); err != nil {
		t.Fatal(err)
	}
	if got := runsOf(t, counter); len(got) != 0 {
		t.Fatalf("second run ran %v, want nothing", got)
	}
	if _, err := Execute(ctx, fsys, p, loadConfig(t, "train.lr=0.5"), opts); err != nil {
		t.Fatal(err)
	}
	if got := runsOf(t, counter); !slices.Equal(got, []string{"train", "evaluate"}) {
		t.Fatalf("after changing train.lr ran %v", got)
	}
	for _, n := range p.StageNames() {
		dir := storage.Join("gs://exp/runs/r1", n)
		m, err := rundir.ReadManifest(ctx, fsys, dir)
		if err != nil || m == nil {
			t.Fatalf("stage %s: manifest %v, %v", n, m, err)
		}
		if why, err := checkOutputs(ctx, fsys, dir, m, true); err != nil || why != "" {
			t.Fatalf("stage %s: %v %s", n, err, why)
		}
	}
	cfgYAML, err := fsys.ReadFile(ctx, "gs://exp/runs/r1/config.yaml")
	if err != nil || !strings.Contains(string(cfgYAML), "lr: 0.5") {
		t.Errorf("resolved config not saved on GCS (err %v)", err)
	}
}

// TestExternalInputsOnGCS: weights and an image folder on gs:// are
// fingerprinted by content; rewriting an object reruns its readers.
func TestExternalInputsOnGCS(t *testing.T) {
	ctx := context.Background()
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the stat cache of gs:// work folders
	fsys := storagetest.FakeGCS(t, "exp")
	for p, data := range map[string]string{
		"gs://exp/data/ann.json": "{}", "gs://exp/data/train2017/a.jpg": "aaaa", "gs://exp/data/train2017/b.jpg": "bbbb",
		"gs://exp/data/val2017/c.jpg": "cccc", "gs://exp/weights.pth": "weights",
	} {
		if _, err := fsys.WriteFile(ctx, p, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	counter := filepath.Join(t.TempDir(), "count")
	p := testPipeline(t, counter, func(s *testStage) {
		switch s.name {
		case "dataset":
			s.external = dataset.Stage{}.External
		case "train":
			s.external = train.Stage{}.External
		}
	})
	cfg := loadConfig(t, "dataset.source=coco", "dataset.root=gs://exp/data", "dataset.train_ann=ann.json", "dataset.val_ann=ann.json",
		"dataset.train_images=train2017", "dataset.val_images=val2017", "train.load_from=gs://exp/weights.pth")
	opts := testOptions("gs://exp/runs")
	for _, tc := range []struct {
		rewrite, data string
		want          []string
	}{
		{"", "", p.StageNames()},
		{"", "", nil},
		{"gs://exp/weights.pth", "WEIGHTS", []string{"train", "evaluate"}},
		{"gs://exp/data/train2017/b.jpg", "BBBB", []string{"dataset", "proposals", "records"}},
	} {
		if tc.rewrite != "" {
			if _, err := fsys.WriteFile(ctx, tc.rewrite, []byte(tc.data)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := Execute(ctx, fsys, p, cfg, opts); err != nil {
			t.Fatal(err)
		}
		if got := runsOf(t, counter); !slices.Equal(got, tc.want) {
			t.Errorf("after rewriting %q: ran %v, want %v", tc.rewrite, got, tc.want)
		}
	}
}
