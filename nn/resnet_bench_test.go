package nn

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/detflow/detflow/tensor"
)

// The ResNet benchmarks match nn/testdata/bench_torch_resnet.py: batch
// 2x3x224x224; "Forward" is eval mode without grad, "TrainStep" is train mode
// forward + mean of the logits + backward (no optimizer step).

func benchInput(e *tensor.Engine) []float32 {
	rng := rand.New(rand.NewPCG(1, 2))
	d := make([]float32, 2*3*224*224)
	for i := range d {
		d[i] = float32(rng.NormFloat64())
	}
	return d
}

func benchForward(b *testing.B, build func(*tensor.Engine) *resnet) {
	e := newEngine()
	m := build(e)
	SetTraining(m, false)
	data := benchInput(e)
	pass := func() {
		mark := e.Mark()
		e.NoGrad(func() { m.Forward(e.FromData(data, 2, 3, 224, 224)).Data() })
		e.Release(mark)
	}
	timeWarm(b, pass)
}

// timeWarm times pass after one untimed warm-up pass, as
// bench_torch_resnet.py times PyTorch: the first pass fills the engine's
// buffer pool and the GEMM workspaces, which -benchtime 3x would otherwise
// count as a third of the figure.
func timeWarm(b *testing.B, pass func()) {
	pass()
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b, rusage())
	for b.Loop() {
		pass()
	}
}

func benchTrain(b *testing.B, build func(*tensor.Engine) *resnet) {
	e := newEngine()
	m := build(e)
	data := benchInput(e)
	timeWarm(b, func() {
		mark := e.Mark()
		ZeroGrad(m)
		tensor.Mean(m.Forward(e.FromData(data, 2, 3, 224, 224))).Backward()
		e.Release(mark)
	})
}

func BenchmarkResNet18Forward(b *testing.B)   { benchForward(b, newResNet18) }
func BenchmarkResNet18TrainStep(b *testing.B) { benchTrain(b, newResNet18) }
func BenchmarkResNet50Forward(b *testing.B)   { benchForward(b, newResNet50) }
func BenchmarkResNet50TrainStep(b *testing.B) { benchTrain(b, newResNet50) }

// reportCPU adds CPU-seconds per op: on a shared machine wall time depends on
// the neighbours, CPU time much less.
func reportCPU(b *testing.B, start syscall.Rusage) {
	var end syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &end); err != nil {
		return
	}
	cpu := time.Duration(end.Utime.Nano() - start.Utime.Nano() + end.Stime.Nano() - start.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func rusage() syscall.Rusage {
	var r syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return r
}
