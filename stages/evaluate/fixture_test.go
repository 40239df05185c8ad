package evaluate

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/stages/records"
	"github.com/detflow/detflow/storage"
	"github.com/detflow/detflow/tensor"
)

func init() {
	RegisterLoader(loadGroundTruthModel)
	RegisterLoader(loadJitteredModel)
	RegisterLoader(loadTwoStageModel)
}

// fixture is a tiny run directory: the dataset and records stages' real
// outputs and a fake train output folder.
type fixture struct {
	fsys    *storage.FS
	dataset string
	records string
	train   string
}

// The fake train folder holds two checkpoints; latest names the second,
// and the fake loaders refuse any other content.
const (
	latestCheckpointName = "epoch_2.safetensors"
	latestWeights        = "fake weights of epoch 2"
)

var baseSets = []string{"dataset.synthetic.train=6", "dataset.synthetic.val=4", "records.shard_size=2", "data.img_scale=[400, 300]"}

// newFixture runs the dataset and records stages into dir.
func newFixture(t testing.TB, ctx context.Context, fsys *storage.FS, dir string) *fixture {
	t.Helper()
	cfg, err := configs.Load(configs.Default, baseSets)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{fsys: fsys, dataset: storage.Join(dir, "dataset"), records: storage.Join(dir, "records"), train: storage.Join(dir, "train")}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := (dataset.Stage{}).Run(ctx, &stages.Env{FS: fsys, Config: cfg, Out: f.dataset, Log: log}); err != nil {
		t.Fatal(err)
	}
	env := &stages.Env{FS: fsys, Config: cfg, Out: f.records, Log: log, Inputs: map[string]string{"dataset": f.dataset}}
	if err := (records.Stage{}).Run(ctx, env); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"epoch_1.safetensors": "fake weights of epoch 1",
		latestCheckpointName: latestWeights, latestName: latestCheckpointName + "\n"} {
		if _, err := fsys.WriteFile(ctx, storage.Join(f.train, name), []byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// env is a stage environment over the fixture with config sets added to
// the base ones, writing to out.
func (f *fixture) env(t testing.TB, out string, config string, sets ...string) *stages.Env {
	t.Helper()
	cfg, err := configs.Load(config, append(slices.Clone(baseSets), sets...))
	if err != nil {
		t.Fatal(err)
	}
	return &stages.Env{FS: f.fsys, Config: cfg, Run: "r1", Out: out, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Inputs: map[string]string{"dataset": f.dataset, "records": f.records, "train": f.train}}
}

// copyDir copies a local folder tree (to corrupt a copy of the records).
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkWeights is what the fake loaders do instead of loading weights:
// they prove the stage handed them the latest checkpoint.
func checkWeights(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if string(b) != latestWeights {
		return fmt.Errorf("checkpoint %s holds %q, want the latest one", path, b)
	}
	return nil
}

func loadGroundTruthModel(ctx context.Context, cfg *configs.Config, e *tensor.Engine, checkpoint string) (Model, error) {
	return fakeModel{}, checkWeights(checkpoint)
}

func loadJitteredModel(ctx context.Context, cfg *configs.Config, e *tensor.Engine, checkpoint string) (Model, error) {
	return fakeModel{jitter: true}, checkWeights(checkpoint)
}

// loadUnregistered is a loader nobody registered.
func loadUnregistered(ctx context.Context, cfg *configs.Config, e *tensor.Engine, checkpoint string) (Model, error) {
	return fakeModel{}, nil
}

// fakeModel "detects" each image's non-crowd ground truth, mapped back
// from the resized frame to original pixels with score 1. With jitter it
// shifts some boxes, lowers scores and adds a false positive per image,
// deterministically.
type fakeModel struct{ jitter bool }

func (m fakeModel) Predict(b *batch.Batch) ([]detection.Detections, error) {
	if b.Images.Shape()[0] != len(b.Items) {
		return nil, fmt.Errorf("batch of %d images for %d items", b.Images.Shape()[0], len(b.Items))
	}
	out := make([]detection.Detections, len(b.Items))
	for i, it := range b.Items {
		d := &out[i]
		for j := range it.GTLabels {
			if it.GTCrowd[j] {
				continue
			}
			g := it.GTBoxes[4*j : 4*j+4]
			x1, y1, x2, y2 := g[0]/it.ScaleX, g[1]/it.ScaleY, g[2]/it.ScaleX, g[3]/it.ScaleY
			score := float32(1)
			if m.jitter {
				dx := float32(j%3-1) * 0.3 * (x2 - x1)
				x1, x2 = max(x1+dx, 0), max(x2+dx, 0)
				score = 0.9 - 0.1*float32(j%4)
			}
			d.Boxes = append(d.Boxes, x1, y1, x2, y2)
			d.Scores = append(d.Scores, score)
			d.Labels = append(d.Labels, it.GTLabels[j])
		}
		if m.jitter {
			d.Boxes = append(d.Boxes, 1, 1, 30, 30)
			d.Scores = append(d.Scores, 0.95)
			d.Labels = append(d.Labels, int32(it.ImageID%3))
		}
	}
	return out, nil
}

func loadTwoStageModel(ctx context.Context, cfg *configs.Config, e *tensor.Engine, checkpoint string) (Model, error) {
	return twoStageModel{fakeModel{jitter: true}}, checkWeights(checkpoint)
}

// twoStageModel detects like the jittered model and proposes the ground
// truth (class-agnostic, no labels), as a Faster R-CNN's RPN would.
type twoStageModel struct{ fakeModel }

func (m twoStageModel) PredictProposals(b *batch.Batch) ([]detection.Detections, error) {
	out, err := fakeModel{}.Predict(b)
	for i := range out {
		out[i].Labels = nil
	}
	return out, err
}
