package nn

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/detflow/detflow/nn/safetensors"
	"github.com/detflow/detflow/tensor"
)

func trainSteps(e *tensor.Engine, n *tinyNet, opt *SGD, steps int) {
	x := make([]float32, 2*3*6*6)
	for i := range x {
		x[i] = float32(i%7) * 0.1
	}
	for i := 0; i < steps; i++ {
		m := e.Mark()
		ZeroGrad(n)
		tensor.Mean(n.Forward(e.FromData(x, 2, 3, 6, 6))).Backward()
		opt.Step()
		e.Release(m)
	}
}

func TestCheckpointResumeMatchesUninterrupted(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	e := newEngine()
	a := newTinyNet(e, rand.New(rand.NewPCG(1, 1)))
	optA := NewSGD(TrainableParameters(a), 0.05, 0.9, 1e-4)
	trainSteps(e, a, optA, 2)
	if err := SaveCheckpoint(ctx, path, a, optA, CheckpointInfo{Step: 2, Epoch: 1, Meta: map[string]string{"config": "tiny"}}); err != nil {
		t.Fatal(err)
	}
	b := newTinyNet(e, rand.New(rand.NewPCG(9, 9)))
	optB := NewSGD(TrainableParameters(b), 0.05, 0.9, 1e-4)
	info, rep, err := LoadCheckpoint(ctx, path, b, optB)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() || info.Step != 2 || info.Epoch != 1 || info.Meta["config"] != "tiny" {
		t.Fatalf("info %+v, report %v", info, rep)
	}
	if got := b.BN1.NumBatchesTracked.Item(); got != 2 {
		t.Fatalf("num_batches_tracked %g, want 2", got)
	}
	trainSteps(e, a, optA, 2)
	trainSteps(e, b, optB, 2)
	for _, p := range NamedParameters(a) {
		q := StateDict(b)[p.Name]
		if !slices.Equal(p.Tensor.Data(), q.Data()) {
			t.Fatalf("%s diverged after resume", p.Name)
		}
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want the checkpoint only", len(entries))
	}
}

func TestCheckpointPyTorchLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	e := newEngine()
	n := newTinyNet(e, rand.New(rand.NewPCG(1, 1)))
	if err := SaveCheckpoint(context.Background(), path, n, nil, CheckpointInfo{}); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	nbt, ok := f.Get("bn1.num_batches_tracked")
	if !ok || nbt.DType != safetensors.I64 || len(nbt.Shape) != 0 {
		t.Fatalf("num_batches_tracked stored as %+v", nbt)
	}
	w, ok := f.Get("conv1.weight")
	if !ok || !slices.Equal(w.Shape, []int{4, 3, 3, 3}) || !slices.Equal(w.F32, n.Conv1.Weight.Data()) {
		t.Fatal("conv1.weight not stored under its state-dict name")
	}
}

func TestLoadCheckpointErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := newEngine()
	n := newTinyNet(e, rand.New(rand.NewPCG(1, 1)))
	if _, _, err := LoadCheckpoint(ctx, filepath.Join(dir, "missing"), n, nil); err == nil {
		t.Fatal("missing file accepted")
	}
	bad := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(bad, []byte("not a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadCheckpoint(ctx, bad, n, nil); err == nil {
		t.Fatal("garbage accepted")
	}
	other := filepath.Join(dir, "other.safetensors")
	f, _ := os.Create(other)
	safetensors.Write(f, []safetensors.Tensor{{Name: "conv1.weight", DType: safetensors.F32, Shape: []int{1}, F32: []float32{1}}}, map[string]string{"format": "other"})
	f.Close()
	if _, _, err := LoadCheckpoint(ctx, other, n, nil); err == nil {
		t.Fatal("foreign format accepted")
	}
	ctxDone, cancel := context.WithCancel(ctx)
	cancel()
	if err := SaveCheckpoint(ctxDone, filepath.Join(dir, "c"), n, nil, CheckpointInfo{}); err == nil {
		t.Fatal("cancelled save went ahead")
	}
}
