package train

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/stages/records"
	"github.com/detflow/detflow/stages/train/traintest"
	"github.com/detflow/detflow/storage"
	"github.com/detflow/detflow/storage/storagetest"
	"github.com/detflow/detflow/tensor"
)

func TestMain(m *testing.M) {
	beam.Init() // the records stage used to make test inputs is a Beam pipeline
	os.Exit(m.Run())
}

var testSets = []string{"dataset.synthetic.train=8", "dataset.synthetic.val=2", "records.shard_size=3",
	"data.imgs_per_gpu=2", "train.epochs=3", "train.log_interval=2", "train.lr_steps=[2]",
	"train.warmup_iters=3", "train.lr=0.04", "train.base_batch=2"}

// trainInputs runs the dataset and records stages once for a test.
func trainInputs(t *testing.T) (*storage.FS, *configs.Config, string) {
	t.Helper()
	ctx := context.Background()
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Load(configs.Default, testSets)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dsDir, recDir := t.TempDir(), t.TempDir()
	if err := (dataset.Stage{}).Run(ctx, &stages.Env{FS: fsys, Config: cfg, Out: dsDir, Log: log}); err != nil {
		t.Fatal(err)
	}
	if err := (records.Stage{}).Run(ctx, &stages.Env{FS: fsys, Config: cfg, Out: recDir, Log: log, Inputs: map[string]string{"dataset": dsDir}}); err != nil {
		t.Fatal(err)
	}
	return fsys, cfg, recDir
}

func toyFactory(nanAfter int, failAt int) Factory {
	return func(*configs.Config) (Builder, error) {
		return func(e *tensor.Engine, rng *rand.Rand) (Model, error) {
			m := traintest.NewToy(e, rng, 9)
			m.NaNAfter = nanAfter
			return &failingToy{Toy: m, failAt: failAt}, nil
		}, nil
	}
}

// failingToy fails at its failAt-th Losses call, as a crash would stop it.
type failingToy struct {
	*traintest.Toy
	failAt int
}

var errCrash = errors.New("simulated crash")

func (f *failingToy) Losses(b *batch.Batch, rngs []*rand.Rand) (map[string]*tensor.Tensor, error) {
	if f.failAt > 0 && f.Calls+1 >= f.failAt {
		return nil, errCrash
	}
	return f.Toy.Losses(b, rngs)
}

func runStage(t *testing.T, fsys *storage.FS, cfg *configs.Config, recDir, work string, f Factory) (string, string, error) {
	t.Helper()
	return runStageOn(t, stages.Devices{Kind: "cpu", Replica: 1}, fsys, cfg, recDir, work, f)
}

func runStageOn(t *testing.T, devs stages.Devices, fsys *storage.FS, cfg *configs.Config, recDir, work string, f Factory) (string, string, error) {
	t.Helper()
	out := t.TempDir()
	var logs strings.Builder
	env := &stages.Env{FS: fsys, Config: cfg, Run: "toy", Out: out, Work: work, Devices: devs,
		Inputs: map[string]string{"records": recDir}, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	err := Stage{Models: f}.Run(context.Background(), env)
	return out, logs.String(), err
}

func TestStageResumesFromLastCheckpoint(t *testing.T) {
	fsys, cfg, recDir := trainInputs(t)
	// 8 images, batch 2: 4 iterations an epoch. Crash during epoch 2.
	work := filepath.Join(t.TempDir(), "work")
	_, _, err := runStage(t, fsys, cfg, recDir, work, toyFactory(0, 6))
	if !errors.Is(err, errCrash) {
		t.Fatalf("first attempt: %v, want the simulated crash", err)
	}
	if _, err := os.Stat(filepath.Join(work, "epoch_1.safetensors")); err != nil {
		t.Fatalf("no epoch 1 checkpoint after the crash: %v", err)
	}
	out, logs, err := runStage(t, fsys, cfg, recDir, work, toyFactory(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs, "msg=resumed") || !strings.Contains(logs, "epoch=1") {
		t.Errorf("rerun did not log a resume from epoch 1:\n%s", logs)
	}
	clean, _, err := runStage(t, fsys, cfg, recDir, filepath.Join(t.TempDir(), "work"), toyFactory(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	a, b := loadToy(t, filepath.Join(out, "epoch_3.safetensors")), loadToy(t, filepath.Join(clean, "epoch_3.safetensors"))
	for i := range a {
		da, db := a[i].Tensor.Data(), b[i].Tensor.Data()
		for j := range da {
			if da[j] != db[j] {
				t.Fatalf("%s[%d]: resumed %v, uninterrupted %v", a[i].Name, j, da[j], db[j])
			}
		}
	}
	rows, err := schemas.Read[schemas.TrainLogRow](context.Background(), fsys, filepath.Join(out, tableName), schemas.TrainLog)
	if err != nil {
		t.Fatal(err)
	}
	// Two log lines an epoch (iterations 2 and 4), three epochs, no duplicates from the redone epoch.
	if len(rows) != 6 || rows[5].Step != 12 || len(rows[0].Losses) != 2 {
		t.Errorf("train log: %d rows, last step %d, losses %v", len(rows), rows[len(rows)-1].Step, rows[0].Losses)
	}
	if rows[0].LR >= rows[2].LR || rows[5].LR >= rows[2].LR {
		t.Errorf("lr warmup then step decay not visible: %v %v %v", rows[0].LR, rows[2].LR, rows[5].LR)
	}
	metrics, err := schemas.Read[schemas.Metric](context.Background(), fsys, filepath.Join(out, metricName), schemas.Metrics)
	if err != nil || len(metrics) != 3 {
		t.Fatalf("metrics %v, %v", metrics, err)
	}
	latest, _ := os.ReadFile(filepath.Join(out, latestName))
	if strings.TrimSpace(string(latest)) != "epoch_3.safetensors" {
		t.Errorf("latest = %q", latest)
	}
}

func TestStageStopsOnNaNKeepingCheckpoint(t *testing.T) {
	fsys, cfg, recDir := trainInputs(t)
	work := filepath.Join(t.TempDir(), "work")
	_, _, err := runStage(t, fsys, cfg, recDir, work, toyFactory(6, 0))
	if err == nil || !strings.Contains(err.Error(), "loss_bbox is NaN") || !strings.Contains(err.Error(), "epoch 2 iter 2") {
		t.Fatalf("error = %v, want loss_bbox NaN named at epoch 2 iter 2", err)
	}
	if _, err := os.Stat(filepath.Join(work, "epoch_1.safetensors")); err != nil {
		t.Errorf("last good checkpoint gone: %v", err)
	}
	if want := "the last good checkpoint is " + filepath.Join(work, "epoch_1.safetensors"); !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v, want it to name the checkpoint: %q", err, want)
	}
}

// A divergence before the first checkpoint says there is none, instead of
// pointing at an empty folder.
func TestStageDivergingBeforeFirstCheckpointSaysThereIsNone(t *testing.T) {
	fsys, cfg, recDir := trainInputs(t)
	work := filepath.Join(t.TempDir(), "work")
	_, _, err := runStage(t, fsys, cfg, recDir, work, toyFactory(1, 0))
	if err == nil || !strings.Contains(err.Error(), "before the first checkpoint: there is none") {
		t.Fatalf("error = %v, want it to say there is no checkpoint", err)
	}
}

// TestStageWithoutDriverSaysSo: --devices cuda:N on a machine without the
// NVIDIA driver fails before training with the CUDA issue's message.
func TestStageWithoutDriverSaysSo(t *testing.T) {
	if _, err := gpu.LoadDriver(); err == nil {
		t.Skip("an NVIDIA driver is present; the GPU checks cover training there")
	}
	fsys, cfg, recDir := trainInputs(t)
	work := filepath.Join(t.TempDir(), "work")
	_, _, err := runStageOn(t, stages.Devices{Kind: "cuda", CUDA: []int{0, 0}}, fsys, cfg, recDir, work, toyFactory(0, 0))
	if err == nil || !strings.HasPrefix(err.Error(), "--devices cuda:0,0: no NVIDIA driver found (libcuda.so.1)") {
		t.Fatalf("err = %v, want the no-driver message", err)
	}
	if _, err := os.Stat(work); !os.IsNotExist(err) {
		t.Errorf("the failed start left a work folder: %v", err)
	}
}

func loadToy(t *testing.T, path string) []nn.Named {
	t.Helper()
	m := traintest.NewToy(newCPUEngine(), seeded(0, "x", 0, 0), 9)
	if _, rep, err := nn.LoadCheckpoint(context.Background(), path, m, nil); err != nil || !rep.Clean() {
		t.Fatalf("load %s: %v %v", path, err, rep)
	}
	return nn.NamedParameters(m)
}

// TestStageWithGCSWorkFolder: with a gs:// work folder the working files
// live in a local mirror, so checkpoints are written and a crashed run
// resumes from them; the mirror goes once the outputs are written.
func TestStageWithGCSWorkFolder(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	_, cfg, recDir := trainInputs(t)
	fsys := storagetest.FakeGCS(t, "bucket")
	work := "gs://bucket/runs/toy/.work/train-0123"
	if _, _, err := runStage(t, fsys, cfg, recDir, work, toyFactory(0, 6)); !errors.Is(err, errCrash) {
		t.Fatalf("first attempt: %v, want the simulated crash", err)
	}
	mirror, err := localWork(work)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(mirror, "epoch_1.safetensors")); err != nil {
		t.Fatalf("no epoch 1 checkpoint in the local mirror %s: %v", mirror, err)
	}
	out, logs, err := runStage(t, fsys, cfg, recDir, work, toyFactory(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs, "msg=resumed") {
		t.Errorf("rerun did not resume from the mirror:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(out, "epoch_3.safetensors")); err != nil {
		t.Errorf("outputs: %v", err)
	}
	if _, err := os.Stat(mirror); !os.IsNotExist(err) {
		t.Errorf("local mirror %s left after publishing: %v", mirror, err)
	}
}

// TestStageResumesOnAnotherMachine: each checkpoint of a gs:// work folder
// is copied up, so a run preempted on one machine resumes on another whose
// cache holds no mirror, and a machine with an older mirror takes the
// newer checkpoint from gs://.
func TestStageResumesOnAnotherMachine(t *testing.T) {
	machineA := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", machineA)
	_, cfg, recDir := trainInputs(t)
	fsys := storagetest.FakeGCS(t, "bucket")
	work := "gs://bucket/runs/toy/.work/train-0456"
	// 4 iterations an epoch: crash in epoch 2, after the epoch 1 checkpoint.
	if _, _, err := runStage(t, fsys, cfg, recDir, work, toyFactory(0, 6)); !errors.Is(err, errCrash) {
		t.Fatalf("first attempt: %v, want the simulated crash", err)
	}
	ctx := context.Background()
	for _, f := range []string{"epoch_1.safetensors", "latest"} {
		if ok, err := fsys.Exists(ctx, work+"/"+f); err != nil || !ok {
			t.Fatalf("%s not mirrored to %s: %v", f, work, err)
		}
	}
	// Machine B: empty cache; it resumes from gs:// and crashes in epoch 3.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	_, logs, err := runStage(t, fsys, cfg, recDir, work, toyFactory(0, 6))
	if !errors.Is(err, errCrash) {
		t.Fatalf("machine B: %v, want the simulated crash", err)
	}
	if !strings.Contains(logs, `msg="fetched the latest checkpoint"`) || !strings.Contains(logs, "msg=resumed") || !strings.Contains(logs, "epoch=1") {
		t.Fatalf("machine B did not resume from gs://:\n%s", logs)
	}
	if latest, err := fsys.ReadFile(ctx, work+"/latest"); err != nil || strings.TrimSpace(string(latest)) != "epoch_2.safetensors" {
		t.Fatalf("gs:// latest after machine B: %q, %v; want epoch_2", latest, err)
	}
	// Back on machine A, whose mirror stops at epoch 1: gs:// is newer.
	t.Setenv("XDG_CACHE_HOME", machineA)
	out, logs, err := runStage(t, fsys, cfg, recDir, work, toyFactory(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs, `msg="fetched the latest checkpoint"`) || !strings.Contains(logs, "epoch=2") {
		t.Errorf("machine A did not take epoch 2 from gs://:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(out, "epoch_3.safetensors")); err != nil {
		t.Errorf("outputs: %v", err)
	}
}

func TestCheckpointEpoch(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		ok   bool
	}{
		{"epoch_12.safetensors", 12, true}, {"epoch_1.safetensors", 1, true},
		{"../epoch_1.safetensors", 0, false}, {"epoch_1.safetensors.tmp", 0, false}, {"", 0, false},
	} {
		if n, ok := checkpointEpoch(tc.name); n != tc.n || ok != tc.ok {
			t.Errorf("checkpointEpoch(%q) = %d, %v", tc.name, n, ok)
		}
	}
}

// TestStagePretrainedFromGCS: a gs:// model.backbone.pretrained reaches the
// model builders as a local copy of the object, removed after training.
func TestStagePretrainedFromGCS(t *testing.T) {
	_, cfg, recDir := trainInputs(t)
	fsys := storagetest.FakeGCS(t, "bucket")
	ctx := context.Background()
	weights := []byte("stand-in for resnet50.pth")
	if _, err := fsys.WriteFile(ctx, "gs://bucket/models/resnet50.pth", weights); err != nil {
		t.Fatal(err)
	}
	c := *cfg
	c.Model.Backbone.Pretrained = "gs://bucket/models/resnet50.pth"
	c.Train.Epochs = 1
	var seen string
	f := func(cfg *configs.Config) (Builder, error) {
		seen = cfg.Model.Backbone.Pretrained
		if b, err := os.ReadFile(seen); err != nil || string(b) != string(weights) {
			t.Errorf("builders got %q (%v), want a local copy of the gs:// object", seen, err)
		}
		return toyFactory(0, 0)(cfg)
	}
	if _, _, err := runStage(t, fsys, &c, recDir, filepath.Join(t.TempDir(), "work"), f); err != nil {
		t.Fatal(err)
	}
	if storage.IsGCS(seen) {
		t.Fatalf("builders got the gs:// path %q", seen)
	}
	if _, err := os.Stat(seen); !os.IsNotExist(err) {
		t.Errorf("local copy %s left after training: %v", seen, err)
	}
	if c.Model.Backbone.Pretrained != "gs://bucket/models/resnet50.pth" {
		t.Errorf("the stage changed the caller's config to %q", c.Model.Backbone.Pretrained)
	}
}

// TestStagePretrainedFromURL: an http(s) model.backbone.pretrained is
// downloaded into torch.hub's cache and the builders read it from there.
func TestStagePretrainedFromURL(t *testing.T) {
	torchHome := t.TempDir()
	t.Setenv("TORCH_HOME", torchHome)
	weights := []byte("stand-in for resnet50.pth")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(weights) }))
	defer srv.Close()
	fsys, cfg, recDir := trainInputs(t)
	c := *cfg
	c.Model.Backbone.Pretrained = srv.URL + "/models/resnet50.pth"
	c.Train.Epochs = 1
	var seen string
	f := func(cfg *configs.Config) (Builder, error) {
		seen = cfg.Model.Backbone.Pretrained
		return toyFactory(0, 0)(cfg)
	}
	if _, _, err := runStage(t, fsys, &c, recDir, filepath.Join(t.TempDir(), "work"), f); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(torchHome, "hub", "checkpoints", "resnet50.pth"); seen != want {
		t.Errorf("builders got %q, want the cached download %s", seen, want)
	}
	if b, err := os.ReadFile(seen); err != nil || string(b) != string(weights) {
		t.Errorf("cached file %q, %v", b, err)
	}
}
