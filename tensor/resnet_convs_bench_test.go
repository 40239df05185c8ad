package tensor_test

import (
	"encoding/csv"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/detflow/detflow/tensor"
)

// resnetConv is one row of testdata/resnet50_convs.csv.
type resnetConv struct {
	name                   string
	count, c, h, co, k, st int
}

// loadResNetConvs reads the convolutions that BenchmarkResNet50Convs and
// testdata/bench_torch_convs.py both time.
func loadResNetConvs(b *testing.B) []resnetConv {
	f, err := os.Open("testdata/resnet50_convs.csv")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	recs, err := r.ReadAll()
	if err != nil {
		b.Fatal(err)
	}
	var out []resnetConv
	for _, rec := range recs[1:] {
		var v [6]int
		for i := range v {
			if v[i], err = strconv.Atoi(rec[i+1]); err != nil {
				b.Fatalf("resnet50_convs.csv, %s: %v", rec[0], err)
			}
		}
		out = append(out, resnetConv{rec[0], v[0], v[1], v[2], v[3], v[4], v[5]})
	}
	return out
}

// BenchmarkResNet50Convs times each distinct convolution of ResNet-50 at
// batch 2x3x224x224 on its own, on the CPU device with GOMAXPROCS
// workers: "forward" without grad on an input and weights made once,
// "train" forward plus the input and weight gradients of a given output
// gradient on fresh copies of both (the PyTorch twin clones them). The
// same convolutions in PyTorch: testdata/bench_torch_convs.py. A layer's
// share of a ResNet step is its time times the count in the CSV.
func BenchmarkResNet50Convs(b *testing.B) {
	e := tensor.NewEngine(tensor.NewCPU(0))
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []float32 { return centered(rng, n) }
	for _, s := range loadResNetConvs(b) {
		opt := tensor.ConvOptions{Stride: [2]int{s.st, s.st}, Padding: [2]int{s.k / 2, s.k / 2}}
		oh := (s.h+2*(s.k/2)-s.k)/s.st + 1
		xd, wd, dyd := rnd(2*s.c*s.h*s.h), rnd(s.co*s.c*s.k*s.k), rnd(2*s.co*oh*oh)
		x0, w0 := e.FromData(xd, 2, s.c, s.h, s.h), e.FromData(wd, s.co, s.c, s.k, s.k)
		mark := e.Mark()
		pass := func(train bool) {
			if train { // fresh leaves, as the PyTorch twin clones them
				x := e.FromData(xd, 2, s.c, s.h, s.h).SetRequiresGrad(true)
				w := e.FromData(wd, s.co, s.c, s.k, s.k).SetRequiresGrad(true)
				tensor.Conv2d(x, w, nil, opt).BackwardWith(e.FromData(dyd, 2, s.co, oh, oh))
			} else {
				e.NoGrad(func() { tensor.Conv2d(x0, w0, nil, opt) })
			}
			e.Release(mark)
		}
		for _, train := range []bool{false, true} {
			name := s.name + "/forward"
			if train {
				name = s.name + "/train"
			}
			b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
				pass(train) // warm: the buffer pool and GEMM workspaces
				for b.Loop() {
					pass(train)
				}
			})
		}
		e.ReleaseAll() // x0 and w0
	}
}
