package train

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages/train/traintest"
	"github.com/detflow/detflow/tensor"
)

// extraLossToy returns a third loss under a name no detector uses yet, as a
// model with a new branch (masks) would.
type extraLossToy struct {
	*traintest.Toy
	name string
}

func (m extraLossToy) Losses(b *batch.Batch, rngs []*rand.Rand) (map[string]*tensor.Tensor, error) {
	l, err := m.Toy.Losses(b, rngs)
	if err != nil {
		return nil, err
	}
	l[m.name] = tensor.Scale(l["loss_cls"], 0.5)
	return l, nil
}

func extraLossFactory(name string) Factory {
	return func(*configs.Config) (Builder, error) {
		return func(e *tensor.Engine, rng *rand.Rand) (Model, error) {
			return extraLossToy{Toy: traintest.NewToy(e, rng, 9), name: name}, nil
		}, nil
	}
}

// TestStageLogsEveryNamedLoss: a loss name the trainer has never seen goes
// to the log lines, the JSON log and the train_log table like the others.
func TestStageLogsEveryNamedLoss(t *testing.T) {
	fsys, cfg, recDir := trainInputs(t)
	out, logs, err := runStage(t, fsys, cfg, recDir, filepath.Join(t.TempDir(), "work"), extraLossFactory("loss_mask"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs, "loss_mask=") {
		t.Errorf("the log lines do not name loss_mask:\n%s", logs)
	}
	f, err := os.Open(filepath.Join(out, logName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := 0
	for sc := bufio.NewScanner(f); sc.Scan(); lines++ {
		var m map[string]any // numbers, and the precision's name (MMDetection's lines hold "mode" likewise)
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		mask, ok := m["loss_mask"].(float64)
		if cls, _ := m["loss_cls"].(float64); !ok || math.Abs(mask-cls/2) > 1e-6 {
			t.Errorf("JSON log line %d: loss_mask %v, loss_cls %v", lines+1, m["loss_mask"], m["loss_cls"])
		}
	}
	rows, err := schemas.Read[schemas.TrainLogRow](context.Background(), fsys, filepath.Join(out, tableName), schemas.TrainLog)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != lines || len(rows) == 0 {
		t.Fatalf("%d table rows for %d JSON lines", len(rows), lines)
	}
	for i, r := range rows {
		var names []string
		sum := 0.0
		for _, l := range r.Losses {
			names = append(names, l.Name)
			sum += l.Value
		}
		if !slices.Equal(names, []string{"loss_bbox", "loss_cls", "loss_mask"}) || math.Abs(sum-r.Loss) > 1e-6*(1+r.Loss) {
			t.Errorf("row %d: losses %v summing to %g, total %g", i, r.Losses, sum, r.Loss)
		}
		if r.Precision != "tf32" || r.LossScale != 0 || r.SkippedSteps != 0 {
			t.Errorf("row %d: precision %q, loss scale %v, skipped %d; want the default tf32, unscaled", i, r.Precision, r.LossScale, r.SkippedSteps)
		}
	}
}

// TestLossNamedLikeALogFieldIsRefused: a loss called "time" would overwrite
// the log line's own field, so the step fails naming it.
func TestLossNamedLikeALogFieldIsRefused(t *testing.T) {
	b, _ := extraLossFactory("time")(nil)
	tr, err := NewTrainer(b, Options{Replicas: 1, ImagesPerReplica: 2, Schedule: nn.StepSchedule{BaseLR: 0.1, Gamma: 0.1}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	rngs := []*rand.Rand{seeded(1, "s", 0, 0), seeded(1, "s", 0, 1)}
	_, err = tr.Step(traintest.Items(2, 0), rngs, 0.1)
	if err == nil || !strings.Contains(err.Error(), `loss named "time"`) {
		t.Fatalf("err = %v, want one naming the loss \"time\"", err)
	}
}

// TestLogWindowAveragesEachLossOverItsSteps: a loss that a model returns
// only on some steps is averaged over those, not diluted by the others.
func TestLogWindowAveragesEachLossOverItsSteps(t *testing.T) {
	var w logWindow
	w.add(StepResult{Losses: map[string]float64{"loss_cls": 1, "loss_mask": 3}, Total: 4}, 0, 0)
	w.add(StepResult{Losses: map[string]float64{"loss_cls": 2}, Total: 2}, 0, 0)
	got := w.row(1, 2, 2, 0.1).Losses
	want := []schemas.LossValue{{Name: "loss_cls", Value: 1.5}, {Name: "loss_mask", Value: 3}}
	if !slices.Equal(got, want) {
		t.Errorf("losses %v, want %v", got, want)
	}
}
