package proposals

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection/detector"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/zoo"
)

// fakeRun writes what an rpn pipeline run leaves behind: <dir>/config.yaml
// (the resolved config of configName) and <dir>/train/epoch_1.safetensors
// with a latest pointer. The weights are the untrained model's: the stage
// does not care what the RPN learnt. ckptModel, when set, builds the
// checkpoint from another config's model (an architecture mismatch).
func fakeRun(t testing.TB, dir, configName, ckptModel string) string {
	t.Helper()
	cfg, err := configs.Load(configName, nil)
	if err != nil {
		t.Fatal(err)
	}
	y, err := cfg.YAML()
	if err != nil {
		t.Fatal(err)
	}
	train := filepath.Join(dir, trainDirName)
	if err := os.MkdirAll(train, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, runConfigName), y, 0o644); err != nil {
		t.Fatal(err)
	}
	if ckptModel != "" {
		if cfg, err = configs.Load(ckptModel, nil); err != nil {
			t.Fatal(err)
		}
	}
	d, err := detector.Build(tensor.NewEngine(tensor.NewCPU(1)), cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(train, "epoch_1.safetensors")
	if err := nn.SaveCheckpoint(context.Background(), ckpt, d, nil, nn.CheckpointInfo{Epoch: 1}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(train, latestName), []byte("epoch_1.safetensors\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return ckpt
}

func TestRPNStageOnPrism(t *testing.T) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	root := t.TempDir()
	dsDir := runDataset(t, fsys, root, 2, 3)
	runDir := filepath.Join(root, "rpn_run")
	fakeRun(t, runDir, "rpn_tiny_synth", "")
	out := filepath.Join(root, "proposals")
	env := proposalsEnv(t, fsys, dsDir, out, "proposals.method=rpn", "proposals.rpn.checkpoint="+runDir,
		"proposals.top_k_train=30", "proposals.top_k_test=20", "proposals.min_size=1")
	if err := (Stage{}).Run(ctx, env); err != nil {
		t.Fatal(err)
	}
	for split, want := range map[string]struct{ images, topK int }{"train": {2, 30}, "val": {3, 20}} {
		set, err := schemas.OpenProposals(ctx, fsys, filepath.Join(out, split))
		if err != nil {
			t.Fatal(err)
		}
		if set.Len() != want.images {
			t.Errorf("split %s: %d images with proposals, want %d", split, set.Len(), want.images)
		}
		for _, id := range set.ImageIDs() {
			row, ok, err := set.Get(ctx, id)
			if err != nil || !ok {
				t.Fatalf("get image %d: ok %v err %v", id, ok, err)
			}
			// An untrained RPN still proposes thousands of anchors' boxes,
			// so every image fills its top k.
			if row.Len() != want.topK {
				t.Errorf("split %s image %d: %d proposals, want top_k %d", split, id, row.Len(), want.topK)
			}
			for i := range row.Len() {
				b := row.Box(i)
				if b[0] < 0 || b[1] < 0 || b[2] > float32(row.Width) || b[3] > float32(row.Height) || b[2]-b[0] < 1 || b[3]-b[1] < 1 {
					t.Fatalf("image %d box %v: outside %dx%d or below min_size 1", id, b, row.Width, row.Height)
				}
				if i > 0 && row.Scores[i] > row.Scores[i-1] {
					t.Fatalf("image %d: scores not descending at %d", id, i)
				}
			}
		}
		set.Close()
	}
	metrics, err := schemas.Read[schemas.Metric](ctx, fsys, filepath.Join(out, MetricsName), schemas.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, m := range metrics {
		got[m.Dataset+"/"+m.Metric] = m.Value
	}
	for _, k := range []string{"val/AR@100", "val/AR@1000", "train/AR@1000", "val/images_per_s", "val/proposals_per_image"} {
		if _, ok := got[k]; !ok {
			t.Errorf("metric %s missing (have %v)", k, got)
		}
	}
	if got["val/proposals_per_image"] != 20 {
		t.Errorf("val/proposals_per_image = %v, want 20", got["val/proposals_per_image"])
	}
	if env.Info["rpn_checkpoint"] != filepath.Join(runDir, "train", "epoch_1.safetensors") {
		t.Errorf("manifest info rpn_checkpoint = %v", env.Info["rpn_checkpoint"])
	}
}

func TestResolveRPN(t *testing.T) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	root := t.TempDir()
	runDir := filepath.Join(root, "rpn_run")
	ckpt := fakeRun(t, runDir, "rpn_tiny_synth", "")
	cfgPath := filepath.Join(runDir, runConfigName)
	// A checkpoint with its config beside it, outside any run.
	loose := filepath.Join(root, "loose")
	if err := os.MkdirAll(loose, 0o755); err != nil {
		t.Fatal(err)
	}
	looseCkpt := filepath.Join(loose, "rpn.safetensors")
	copyTestFile(t, ckpt, looseCkpt)
	copyTestFile(t, cfgPath, filepath.Join(loose, runConfigName))
	tests := []struct {
		name, value, ckpt, config string
	}{
		{"run directory", runDir, ckpt, cfgPath},
		{"train folder", filepath.Join(runDir, "train"), ckpt, cfgPath},
		{"checkpoint in a run", ckpt, ckpt, cfgPath},
		{"checkpoint with its config beside it", looseCkpt, looseCkpt, filepath.Join(loose, runConfigName)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := resolveRPN(ctx, fsys, tt.value)
			if err != nil {
				t.Fatal(err)
			}
			if src.Checkpoint != tt.ckpt || src.ConfigPath != tt.config || src.Config.Model.Type != zoo.ModelRPN {
				t.Errorf("got checkpoint %s config %s (%s), want %s and %s", src.Checkpoint, src.ConfigPath, src.Config.Model.Type, tt.ckpt, tt.config)
			}
		})
	}
}

func copyTestFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRPNMethodErrors(t *testing.T) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	root := t.TempDir()
	dsDir := runDataset(t, fsys, root, 1, 1)
	fastRun := filepath.Join(root, "fast_run")
	fakeRun(t, fastRun, "fast_rcnn_tiny_synth", "")
	mismatch := filepath.Join(root, "mismatch_run")
	fakeRun(t, mismatch, "rpn_tiny_synth", "fast_rcnn_tiny_synth")
	noLatest := filepath.Join(root, "empty_run")
	if err := os.MkdirAll(noLatest, 0o755); err != nil {
		t.Fatal(err)
	}
	noConfig := filepath.Join(root, "no_config", "model.safetensors")
	if err := os.MkdirAll(filepath.Dir(noConfig), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(noConfig, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(root, "nowhere", "epoch_3.safetensors")
	tests := []struct {
		name, value string
		want        []string
	}{
		{"missing checkpoint", missing, []string{`proposals.rpn.checkpoint "` + missing + `"`, "no such file"}},
		{"folder without checkpoints", noLatest, []string{"neither train/latest nor latest"}},
		{"checkpoint without config", noConfig, []string{"no RPN config found", filepath.Join(root, "no_config", "config.yaml")}},
		{"not an RPN", fastRun, []string{`the config of a "FastRCNN" model (model.type), not an "RPN"`}},
		{"architecture mismatch", mismatch, []string{"does not match the RPN its config describes", "rpn_head."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			env := proposalsEnv(t, fsys, dsDir, out, "proposals.method=rpn", "proposals.rpn.checkpoint="+tt.value)
			err := (Stage{}).Run(ctx, env)
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("error: %v", err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if _, serr := os.Stat(filepath.Join(out, "train")); serr == nil {
				t.Errorf("the stage wrote proposals before failing")
			}
		})
	}
}

// TestRPNOnGCS runs method rpn with the RPN run, the images and the outputs
// in a fake GCS bucket: the driver and the workers each copy the checkpoint
// and the config out of the bucket (see TestSelectiveSearchOnGCS for the
// emulator set-up).
func TestRPNOnGCS(t *testing.T) {
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
	local := filepath.Join(t.TempDir(), "rpn_run")
	fakeRun(t, local, "rpn_tiny_synth", "")
	for _, p := range []string{runConfigName, "train/epoch_1.safetensors", "train/latest"} {
		b, err := os.ReadFile(filepath.Join(local, p))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fsys.WriteFile(ctx, "gs://data/rpn_run/"+p, b); err != nil {
			t.Fatal(err)
		}
	}
	dsDir := runDataset(t, fsys, "gs://data/run", 1, 2)
	out := "gs://data/run/.tmp-proposals"
	env := proposalsEnv(t, fsys, dsDir, out, "proposals.method=rpn", "proposals.rpn.checkpoint=gs://data/rpn_run", "proposals.top_k_test=20")
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
	if got := env.Info["rpn_checkpoint"]; got != "gs://data/rpn_run/train/epoch_1.safetensors" {
		t.Errorf("rpn_checkpoint = %v", got)
	}
}
