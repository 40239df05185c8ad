package proposals_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/pipelines"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/stages/proposals"
	"github.com/detflow/detflow/storage"
)

// TestStageUnderOrchestrator runs dataset and proposals through the
// orchestrator: outputs are published with a manifest, and a second run
// skips the stage.
func TestStageUnderOrchestrator(t *testing.T) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	p, err := pipelines.New("t", "dataset and proposals", dataset.Stage{}, proposals.Stage{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Load(configs.Default, []string{"dataset.synthetic.train=1", "dataset.synthetic.val=2", "proposals.top_k_test=30"})
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	var out bytes.Buffer
	opts := pipelines.Options{Workdir: work, Run: "r", Stdout: &out, Stderr: &out, Progress: "never"}
	res, err := pipelines.Execute(ctx, fsys, p, cfg, opts)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if got := res.Stages[1].Outcome; got != "ran" {
		t.Errorf("first run: proposals %s, want ran", got)
	}
	set, err := schemas.OpenProposals(ctx, fsys, filepath.Join(work, "r", "proposals", "val"))
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 2 {
		t.Errorf("published val proposals for %d images, want 2", set.Len())
	}
	set.Close()
	res, err = pipelines.Execute(ctx, fsys, p, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Stages[1].Outcome; got != "skipped" {
		t.Errorf("second run: proposals %s, want skipped", got)
	}
}
