package nn

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/detflow/detflow/tensor"
)

// TestLoadPthMatchesTorchForward loads a torch.save'd state dict into the
// same architecture and compares the eval-mode output with PyTorch's.
func TestLoadPthMatchesTorchForward(t *testing.T) {
	e := newEngine()
	n := newTinyNet(e, rand.New(rand.NewPCG(1, 1)))
	rep, err := LoadPth(context.Background(), "testdata/tiny.pth", n, "")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() {
		t.Fatalf("keys did not line up: %v", rep)
	}
	if got := n.BN1.NumBatchesTracked.Item(); got != 3 {
		t.Fatalf("num_batches_tracked = %g, want 3", got)
	}
	raw, err := os.ReadFile("testdata/tiny_pth.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx tinyFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	SetTraining(n, false)
	var got []float32
	e.NoGrad(func() { got = n.Forward(e.FromData(fx.X, fx.XShape...)).Data() })
	if len(got) != len(fx.Y) {
		t.Fatalf("%d outputs, torch %d", len(got), len(fx.Y))
	}
	expectClose(t, "eval output", got, fx.Y)

	// A training-mode step: batch statistics, gradients through every layer.
	SetTraining(n, true)
	out := n.Forward(e.FromData(fx.X, fx.XShape...))
	expectClose(t, "train output", out.Data(), fx.TrainY)
	tensor.Sum(tensor.Mul(out, e.FromData(fx.R, out.Shape()...))).Backward()
	for _, p := range NamedParameters(n) {
		want, ok := fx.Grads[p.Name]
		if !ok {
			t.Fatalf("fixture has no gradient for %q", p.Name)
		}
		expectClose(t, p.Name+" grad", p.Tensor.Grad().Data(), want)
	}
	expectClose(t, "bn1 running mean", n.BN1.RunningMean.Data(), fx.RunningMeanAfter)
}

type tinyFixture struct {
	X                []float32            `json:"x"`
	XShape           []int                `json:"x_shape"`
	Y                []float32            `json:"y"`
	TrainY           []float32            `json:"train_y"`
	R                []float32            `json:"r"`
	Grads            map[string][]float32 `json:"grads"`
	RunningMeanAfter []float32            `json:"running_mean_after"`
}

func expectClose(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, torch %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > 1e-4+1e-4*math.Abs(float64(want[i])) {
			t.Fatalf("%s[%d] = %g, torch %g", what, i, got[i], want[i])
		}
	}
}

func TestLoadPthPrefixAndErrors(t *testing.T) {
	e := newEngine()
	n := newTinyNet(e, rand.New(rand.NewPCG(1, 1)))
	rep, err := LoadPth(context.Background(), "testdata/tiny.pth", n.Layer1, "layer1.")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() {
		t.Fatalf("prefix load report: %v", rep)
	}
	if _, err := LoadPth(context.Background(), "testdata/missing.pth", n, ""); err == nil {
		t.Fatal("missing file accepted")
	}
	// Loading into a layer of another shape is an error, not a partial load.
	if _, err := LoadPth(context.Background(), "testdata/tiny.pth", NewConv2d(e, Conv2dConfig{In: 1, Out: 1, Kernel: 1}), "conv1."); err == nil {
		t.Fatal("shape mismatch accepted")
	}
}
