package pipelines

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/detflow/detflow/rundir"
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
