package tensor

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// Kernel benchmarks on ResNet-18 stem shapes (batch 2): the memory-bound
// kernels around the GEMMs.
func BenchmarkKernels(b *testing.B) {
	d := NewCPU(0)
	rng := rand.New(rand.NewPCG(1, 2))
	x := buf(randSlice(rng, 2*64*112*112))
	pg := PoolGeom{N: 2, C: 64, H: 112, W: 112, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}
	y, arg := d.Alloc(2*64*56*56), d.AllocIndex(2*64*56*56)
	dx := d.Alloc(x.Len())
	g := ConvGeom{C: 64, H: 56, W: 56, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1}
	col := d.Alloc(g.ColRows() * g.ColCols())
	img := d.View(x, 0, 64*56*56)
	b.Run("maxpool 3x3s2 2x64x112x112", func(b *testing.B) {
		defer reportCPU(b, rusage())
		for b.Loop() {
			d.MaxPool2d(x, pg, y, arg)
		}
	})
	b.Run("maxpool backward", func(b *testing.B) {
		defer reportCPU(b, rusage())
		for b.Loop() {
			d.MaxPool2dBackward(y, arg, pg, dx)
		}
	})
	b.Run("relu backward 1.6M", func(b *testing.B) {
		defer reportCPU(b, rusage())
		for b.Loop() {
			d.UnaryBackward(UnaryRelu, 0, x, nil, x, dx)
		}
	})
	b.Run("im2col 3x3 64x56x56", func(b *testing.B) {
		defer reportCPU(b, rusage())
		for b.Loop() {
			d.Im2col(img, g, col)
		}
	})
	b.Run("col2im 3x3 64x56x56", func(b *testing.B) {
		defer reportCPU(b, rusage())
		for b.Loop() {
			d.Col2im(col, g, img)
		}
	})
	b.Run("batch norm stats 2x64x112x112", func(b *testing.B) {
		m, v := d.Alloc(64), d.Alloc(64)
		defer reportCPU(b, rusage())
		for b.Loop() {
			d.ChannelMeanVar(x, 2, 64, 112*112, m, v)
		}
	})
}

// reportCPU adds CPU-seconds per op, steadier than wall time on a shared
// machine.
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

// BenchmarkSortRowsTopK is the RPN's pre-NMS selection: top 2000 of 150k.
func BenchmarkSortRowsTopK(b *testing.B) {
	d := NewCPU(1)
	x := buf(randSlice(rand.New(rand.NewPCG(3, 4)), 150000))
	idx := d.AllocIndex(2000)
	defer reportCPU(b, rusage())
	for b.Loop() {
		d.SortRows(x, 1, 150000, 2000, true, idx)
	}
}

func BenchmarkRelu(b *testing.B) {
	d := NewCPU(1)
	x := buf(randSlice(rand.New(rand.NewPCG(5, 6)), 1<<20))
	y := d.Alloc(1 << 20)
	defer reportCPU(b, rusage())
	for b.Loop() {
		d.Unary(UnaryRelu, 0, x, y)
	}
}

func BenchmarkIm2col(b *testing.B) {
	d := NewCPU(1)
	for _, g := range []ConvGeom{
		{C: 3, H: 224, W: 224, KH: 7, KW: 7, StrideH: 2, StrideW: 2, PadH: 3, PadW: 3, DilationH: 1, DilationW: 1},
		{C: 64, H: 56, W: 56, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1},
		{C: 128, H: 56, W: 56, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1},
		{C: 256, H: 14, W: 14, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1},
		{C: 512, H: 7, W: 7, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1},
		{C: 256, H: 28, W: 28, KH: 1, KW: 1, StrideH: 2, StrideW: 2, DilationH: 1, DilationW: 1},
	} {
		x := buf(randSlice(rand.New(rand.NewPCG(1, 2)), g.C*g.H*g.W))
		col := d.Alloc(g.ColRows() * g.ColCols())
		b.Run(fmt.Sprintf("%dx%dx%d k%d s%d", g.C, g.H, g.W, g.KH, g.StrideH), func(b *testing.B) {
			defer reportCPU(b, rusage())
			for b.Loop() {
				d.Im2col(x, g, col)
			}
			b.ReportMetric(float64(col.Len())*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
		b.Run(fmt.Sprintf("col2im %dx%dx%d k%d s%d", g.C, g.H, g.W, g.KH, g.StrideH), func(b *testing.B) {
			defer reportCPU(b, rusage())
			for b.Loop() {
				d.Col2im(col, g, x)
			}
			b.ReportMetric(float64(col.Len())*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
}
