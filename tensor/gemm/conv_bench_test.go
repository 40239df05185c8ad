package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// convShape is the product of one convolution lowered to GEMM: weights
// (m output channels by k = cin*kh*kw) times the im2col matrix (k rows of
// n output pixels, row stride n), as tensor's Conv2d calls it.
type convShape struct {
	name    string
	m, k, n int
}

// r50FPNConvs are convolutions of RetinaNet R-50-FPN at 1333x800 (padded to
// 1344x800): the stride-4 level is 336x200 = 67200 pixels, stride 8 is
// 168x100 = 16800. The im2col rows are a whole feature map apart, which is
// what makes packing op(B) expensive.
var r50FPNConvs = []convShape{
	{"head3x3/s8", 256, 256 * 9, 16800},
	{"layer2-3x3/s8", 128, 128 * 9, 16800},
	{"layer1-3x3/s4", 64, 64 * 9, 67200},
	{"layer1-1x1in/s4", 64, 256, 67200},
	{"layer1-1x1out/s4", 256, 64, 67200},
}

func randomSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32() - 0.5
	}
	return s
}

// BenchmarkConvSgemm times whole SGEMMs of the R-50-FPN conv shapes on all
// cores (wall clock, GFLOP/s).
func BenchmarkConvSgemm(b *testing.B) {
	for _, s := range r50FPNConvs {
		b.Run(s.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, uint64(s.n)))
			w, col := randomSlice(rng, s.m*s.k), randomSlice(rng, s.k*s.n)
			out := make([]float32, s.m*s.n)
			Sgemm(false, false, s.m, s.n, s.k, 1, w, s.k, col, s.n, 0, out, s.n)
			cpu := startCPU(b)
			for b.Loop() {
				Sgemm(false, false, s.m, s.n, s.k, 1, w, s.k, col, s.n, 0, out, s.n)
			}
			cpu.report()
			b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkConvPackB times packing alone: every kc×nc panel of the im2col
// matrix of each conv shape, task by task on one goroutine, as a call's
// schedule packs them (GB/s of source read).
func BenchmarkConvPackB(b *testing.B) {
	for _, s := range r50FPNConvs {
		b.Run(s.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(4, uint64(s.n)))
			g := gemmCall{m: s.m, n: s.n, k: s.k, b: randomSlice(rng, s.k*s.n), ldb: s.n}
			ws := &workspace{}
			panels := packPanels(&g, ws, bestKernel(), defaultBlocking())
			clear(ws.packedB[0]) // fault its pages in
			cpu := startCPU(b)
			for b.Loop() {
				for i := range panels {
					for t := range panels[i].packTasks() {
						panels[i].packB(0, t)
					}
				}
			}
			cpu.report()
			b.ReportMetric(4*float64(s.k*s.n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

// packPanels lays out the op(B) panels of call g as run does, all packed
// into one buffer of ws.
func packPanels(g *gemmCall, ws *workspace, kern microKernel, bl blocking) []panel {
	kc := ceilDiv(g.k, ceilDiv(g.k, bl.kc))
	nc := min(bl.nc, roundUp(g.n, kern.nr))
	ws.packedB[0] = make([]float32, kc*roundUp(nc, kern.nr))
	var panels []panel
	for jc := 0; jc < g.n; jc += nc {
		for pc := 0; pc < g.k; pc += kc {
			p := panel{g: g, ws: ws, kern: kern, pc: pc, kc: min(kc, g.k-pc), jc: jc, nc: min(nc, g.n-jc), mc: bl.mc}
			p.layout(1)
			panels = append(panels, p)
		}
	}
	if len(panels) == 0 {
		panic(fmt.Sprintf("no panels for %dx%dx%d", g.m, g.n, g.k))
	}
	return panels
}

// cpuClock reports a benchmark's process CPU time per op (cpu-ms/op) beside
// its wall time: on the shared machine other processes' time slices
// stretch the wall time but not this.
type cpuClock struct {
	b     *testing.B
	start float64
	ok    bool
}

// startCPU resets b's timer and starts counting CPU time.
func startCPU(b *testing.B) cpuClock {
	c := cpuClock{b: b}
	c.start, c.ok = processCPUSeconds()
	b.ResetTimer()
	return c
}

func (c cpuClock) report() {
	if end, ok := processCPUSeconds(); c.ok && ok && c.b.N > 0 {
		c.b.ReportMetric((end-c.start)*1e3/float64(c.b.N), "cpu-ms/op")
	}
}
