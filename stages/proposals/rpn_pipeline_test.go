package proposals_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/pipelines"
	"github.com/detflow/detflow/rundir"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// TestRPNRunFeedsFastRCNN is the hand-off issue 7 asks for: an rpn pipeline
// run on a tiny synthetic set, then fast_rcnn_with_proposals taking its
// proposals from that run through proposals.method=rpn, trained and
// evaluated end to end.
func TestRPNRunFeedsFastRCNN(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two tiny models")
	}
	if !beam.Initialized() {
		// The records stage expects the binary's main to have called it.
		beam.Init()
	}
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	work := t.TempDir()
	small := []string{"dataset.synthetic.train=4", "dataset.synthetic.val=2", "data.imgs_per_gpu=2",
		"train.epochs=1", "train.lr_steps=[1]", "train.warmup_iters=1", "train.log_interval=1"}
	run := func(pipeline, config, name string, sets ...string) {
		t.Helper()
		p, err := pipelines.Builtin().Lookup(pipeline)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := configs.Load(config, append(append([]string{}, small...), sets...))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		opts := pipelines.Options{Workdir: work, Run: name, Stdout: &out, Stderr: &out, Progress: "never"}
		if _, err := pipelines.Execute(ctx, fsys, p, cfg, opts); err != nil {
			t.Fatalf("%s: %v\n%s", pipeline, err, out.String())
		}
	}
	run("rpn", "rpn_tiny_synth", "rpn_run")
	rpnRun := filepath.Join(work, "rpn_run")
	run("fast_rcnn_with_proposals", "fast_rcnn_tiny_synth", "frcnn_run",
		"proposals.method=rpn", "proposals.rpn.checkpoint=rpn_run", // a run beside this one, by name
		"proposals.top_k_train=300", "proposals.top_k_test=100")
	frcnn := filepath.Join(work, "frcnn_run")
	for split, n := range map[string]int{"train": 4, "val": 2} {
		set, err := schemas.OpenProposals(ctx, fsys, filepath.Join(frcnn, "proposals", split))
		if err != nil {
			t.Fatal(err)
		}
		if set.Len() != n {
			t.Errorf("split %s: proposals for %d images, want %d", split, set.Len(), n)
		}
		set.Close()
	}
	// The stage records which checkpoint it ran: the rpn run's latest.
	b, err := fsys.ReadFile(ctx, filepath.Join(frcnn, "proposals", rundir.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var m rundir.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(rpnRun, "train", "epoch_1.safetensors"); m.Info["rpn_checkpoint"] != want {
		t.Errorf("proposals manifest info rpn_checkpoint = %v, want %s", m.Info["rpn_checkpoint"], want)
	}
	for _, p := range []string{"train/latest", "evaluate/results.bbox.json", "evaluate/metrics.parquet"} {
		if ok, err := fsys.Exists(ctx, filepath.Join(frcnn, p)); err != nil || !ok {
			t.Errorf("fast_rcnn_with_proposals run lacks %s (%v)", p, err)
		}
	}
}
