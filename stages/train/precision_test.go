package train

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages/train/traintest"
	"github.com/detflow/detflow/tensor"
)

// toyRun trains a Toy on 4 fixed images for steps steps under opts'
// precision and returns each step's result.
func toyRun(t *testing.T, opts Options, steps int) (*Trainer, []StepResult) {
	t.Helper()
	opts.Replicas, opts.ImagesPerReplica, opts.Seed = 1, 4, 1
	opts.Schedule, opts.Momentum = nn.StepSchedule{BaseLR: 0.1, Gamma: 0.1}, 0.9
	tr, err := NewTrainer(toyBuilder(3, 0), opts)
	if err != nil {
		t.Fatal(err)
	}
	items := traintest.Items(4, 99)
	var out []StepResult
	for range steps {
		rngs := make([]*rand.Rand, 4)
		for i := range rngs {
			rngs[i] = seeded(1, "sample", 0, uint64(i))
		}
		r, err := tr.Step(items, rngs, 0.1)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return tr, out
}

// TestMixedPrecisionEmulationReducesToyLoss: fp16 (dynamic loss scaling)
// and bf16 learn the toy task as FP32 does, on trajectories of their own
// (the rounding is applied), with the master weights kept in FP32.
func TestMixedPrecisionEmulationReducesToyLoss(t *testing.T) {
	_, fp32 := toyRun(t, Options{}, 60)
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"fp16", Options{Autocast: tensor.AutocastFP16, LossScaler: nn.NewDynamicLossScaler()}},
		{"bf16", Options{Autocast: tensor.AutocastBF16}},
	} {
		tr, res := toyRun(t, tc.opts, 60)
		first, last := res[0].Total, res[len(res)-1].Total
		if last > 0.5*first {
			t.Errorf("%s: loss went from %.4f to %.4f in 60 steps; want it at least halved", tc.name, first, last)
		}
		if last == fp32[len(fp32)-1].Total {
			t.Errorf("%s: final loss %v equals FP32's bit for bit: no rounding happened", tc.name, last)
		}
		if math.Abs(last-fp32[len(fp32)-1].Total) > 0.1*fp32[0].Total {
			t.Errorf("%s: final loss %.4f, FP32's %.4f: too far apart", tc.name, last, fp32[len(fp32)-1].Total)
		}
		if !hasNonHalfWeight(tr) {
			t.Errorf("%s: every weight is a 16-bit value: the master weights are not FP32", tc.name)
		}
	}
}

// hasNonHalfWeight reports whether some trained weight is no binary16 or
// bfloat16 value, as FP32 master weights updated by small steps are.
func hasNonHalfWeight(tr *Trainer) bool {
	for _, p := range nn.TrainableParameters(tr.Model()) {
		for _, v := range p.Tensor.Data() {
			if roundsAway(v, tensor.AutocastFP16) && roundsAway(v, tensor.AutocastBF16) {
				return true
			}
		}
	}
	return false
}

func roundsAway(v float32, a tensor.Autocast) bool {
	e := tensor.NewEngine(tensor.NewCPU(1))
	return tensor.RoundTo(e.FromData([]float32{v}, 1), a).Item() != v
}

// TestLossScalerSkipsOverflowingSteps: a scale of 2^40 makes fp16
// gradients overflow; the dynamic scaler skips those steps, weights
// untouched, halving the scale each time until the gradients fit, then
// steps. A static scale that overflows skips every step and stays.
func TestLossScalerSkipsOverflowingSteps(t *testing.T) {
	sc := nn.NewDynamicLossScaler()
	sc.Scale = 0x1p40
	tr, res := toyRun(t, Options{Autocast: tensor.AutocastFP16, LossScaler: sc}, 40)
	skipped := 0
	for skipped < len(res) && res[skipped].Skipped {
		if want := 0x1p40 / math.Pow(2, float64(skipped)); res[skipped].LossScale != want {
			t.Fatalf("step %d: loss scale %v, want %v", skipped+1, res[skipped].LossScale, want)
		}
		skipped++
	}
	if skipped == 0 || skipped == len(res) {
		t.Fatalf("%d of %d steps skipped; want the first few", skipped, len(res))
	}
	for _, r := range res[skipped:] {
		if r.Skipped {
			t.Fatalf("a step was skipped after the scale fit: %+v", r)
		}
	}
	if sc.Scale != 0x1p40/math.Pow(2, float64(skipped)) {
		t.Errorf("scale %v after %d skips", sc.Scale, skipped)
	}

	static := nn.NewStaticLossScaler(0x1p40)
	tr, res = toyRun(t, Options{Autocast: tensor.AutocastFP16, LossScaler: static}, 3)
	for i, r := range res {
		if !r.Skipped || r.LossScale != 0x1p40 {
			t.Errorf("static step %d: skipped %v, scale %v; want skipped at 2^40", i+1, r.Skipped, r.LossScale)
		}
	}
	untouched, _ := toyRun(t, Options{}, 0)
	for i, p := range nn.TrainableParameters(tr.Model()) {
		if !slices.Equal(p.Tensor.Data(), nn.TrainableParameters(untouched.Model())[i].Tensor.Data()) {
			t.Fatalf("%s changed although every step was skipped", p.Name)
		}
	}
}

// TestNaNLossStopsUnderLossScaling: a NaN loss is a LossError, not a
// step the scaler skips.
func TestNaNLossStopsUnderLossScaling(t *testing.T) {
	tr, err := NewTrainer(toyBuilder(3, 3), Options{Replicas: 1, ImagesPerReplica: 2,
		Schedule: nn.StepSchedule{BaseLR: 0.1, Gamma: 0.1}, Seed: 1,
		Autocast: tensor.AutocastFP16, LossScaler: nn.NewDynamicLossScaler()})
	if err != nil {
		t.Fatal(err)
	}
	for k := range 3 {
		rngs := []*rand.Rand{seeded(1, "s", uint64(k), 0), seeded(1, "s", uint64(k), 1)}
		res, err := tr.Step(traintest.Items(2, uint64(k)), rngs, 0.1)
		if k < 2 && (err != nil || res.Skipped) {
			t.Fatalf("step %d: %v, skipped %v", k, err, res.Skipped)
		}
		if k == 2 {
			if le, ok := err.(*LossError); !ok || le.Name != "loss_bbox" {
				t.Fatalf("step %d: error %v (skipped %v), want a LossError naming loss_bbox", k, err, res.Skipped)
			}
		}
	}
}

// TestStageRecordsPrecision: train.precision fp16 is logged at the start
// with what it computes on the CPU, and the train log and metrics record
// the precision, the loss scale and the steps skipped, consistently.
func TestStageRecordsPrecision(t *testing.T) {
	fsys, cfg, recDir := trainInputs(t)
	cfg.Train.Precision = "fp16"
	out, logs, err := runStage(t, fsys, cfg, recDir, t.TempDir(), extraLossFactory("loss_mask"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs, "precision=fp16") || !strings.Contains(logs, "emulated on CPU") || !strings.Contains(logs, "initial_scale=65536") {
		t.Errorf("the start of training does not say its precision:\n%s", logs)
	}
	rows, err := schemas.Read[schemas.TrainLogRow](context.Background(), fsys, filepath.Join(out, tableName), schemas.TrainLog)
	if err != nil || len(rows) == 0 {
		t.Fatalf("train log: %d rows, %v", len(rows), err)
	}
	// The toy's gradients overflow fp16 at GradScaler's initial 65536 now
	// and then: each skip halves the scale (too few steps to grow it).
	skipped := 0
	for i, r := range rows {
		skipped += int(r.SkippedSteps)
		if want := 65536 / math.Pow(2, float64(skipped)); r.Precision != "fp16" || r.LossScale != want {
			t.Errorf("row %d: precision %q, loss scale %v after %d skips; want fp16 at %v", i, r.Precision, r.LossScale, skipped, want)
		}
	}
	metrics, err := schemas.Read[schemas.Metric](context.Background(), fsys, filepath.Join(out, metricName), schemas.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, m := range metrics {
		got[m.Metric] = m.Value
	}
	if s, ok := got["train_loss_scale"]; !ok || s != rows[len(rows)-1].LossScale || got["train_skipped_steps"] != float64(skipped) {
		t.Errorf("metrics %v: want the last row's loss scale and the %d skipped steps", got, skipped)
	}
}

// TestResumeRestoresDynamicLossScale: a dynamic scaler resumes from the
// checkpoint's scale and clean-step count; a static one keeps the
// config's; bad metadata is an error naming the key.
func TestResumeRestoresDynamicLossScale(t *testing.T) {
	meta := map[string]string{metaLossScale: "1024", metaCleanSteps: "17"}
	dyn := &loop{opts: Options{LossScaler: nn.NewDynamicLossScaler()}}
	if err := dyn.restoreScaler(meta); err != nil || dyn.opts.LossScaler.Scale != 1024 || dyn.opts.LossScaler.CleanSteps != 17 {
		t.Errorf("dynamic: %v, %+v", err, *dyn.opts.LossScaler)
	}
	static := &loop{opts: Options{LossScaler: nn.NewStaticLossScaler(512)}}
	if err := static.restoreScaler(meta); err != nil || static.opts.LossScaler.Scale != 512 {
		t.Errorf("static: %v, %+v", err, *static.opts.LossScaler)
	}
	err := dyn.restoreScaler(map[string]string{metaLossScale: "-3", metaCleanSteps: "0"})
	if err == nil || !strings.Contains(err.Error(), `loss_scale = "-3"`) {
		t.Errorf("bad scale: %v", err)
	}
	if err := (&loop{}).restoreScaler(meta); err != nil {
		t.Errorf("unscaled run: %v", err)
	}
}
