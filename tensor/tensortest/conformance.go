// Package tensortest is the backend conformance suite: it runs every
// tensor.Device kernel on random inputs (odd sizes included) on the device
// under test and on the reference CPU device, and compares the results.
// The CPU backend's tests and the CUDA backend's tests both call Run.
package tensortest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/detflow/detflow/tensor"
)

// Tolerance is the checker's |got−want| <= Atol + Rtol·|want| (llm.c style).
type Tolerance struct{ Atol, Rtol float64 }

// Run checks dev against tensor.NewCPU(1) kernel by kernel. A zero tol uses
// atol 1e-5, rtol 1e-4.
func Run(t *testing.T, dev tensor.Device, tol Tolerance) {
	if tol == (Tolerance{}) {
		tol = Tolerance{Atol: 1e-5, Rtol: 1e-4} // float32 sums in another order
	}
	ref := tensor.NewCPU(1)
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			want := c.run(host{ref}, rand.New(rand.NewPCG(42, 43)))
			got := c.run(host{dev}, rand.New(rand.NewPCG(42, 43)))
			if len(got) != len(want) {
				t.Fatalf("%d outputs, reference %d", len(got), len(want))
			}
			for i := range want {
				Check(t, fmt.Sprintf("%s output %d", c.name, i), got[i], want[i], tol)
			}
		})
	}
}

// Check compares got with want, reporting the first five mismatches.
func Check(t *testing.T, what string, got, want []float32, tol Tolerance) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) != math.IsNaN(w) || math.Abs(g-w) > tol.Atol+tol.Rtol*math.Abs(w) {
			if bad < 5 {
				t.Errorf("%s[%d] = %g, want %g", what, i, g, w)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d values differ", what, bad, len(want))
	}
}

// host wraps a device with upload/download helpers.
type host struct{ d tensor.Device }

func (h host) up(x []float32) tensor.Buffer {
	b := h.d.Alloc(len(x))
	h.d.Upload(b, x)
	return b
}

func (h host) upIdx(x []int32) tensor.IndexBuffer {
	b := h.d.AllocIndex(len(x))
	h.d.UploadIndex(b, x)
	return b
}

func (h host) down(b tensor.Buffer) []float32 {
	out := make([]float32, b.Len())
	h.d.Download(out, b)
	return out
}

func (h host) downIdx(b tensor.IndexBuffer) []float32 {
	out := make([]int32, b.Len())
	h.d.DownloadIndex(out, b)
	f := make([]float32, len(out))
	for i, v := range out {
		f[i] = float32(v)
	}
	return f
}

// zeros allocates a buffer and fills it, so kernels that leave parts
// unwritten show up as differences rather than garbage.
func (h host) zeros(n int) tensor.Buffer {
	b := h.d.Alloc(n)
	h.d.Fill(b, 0)
	return b
}

func randn(rng *rand.Rand, n int, lo, hi float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = lo + (hi-lo)*rng.Float32()
	}
	return s
}

// kernelCase runs one kernel (or a short kernel sequence) and returns its
// outputs in host memory.
type kernelCase struct {
	name string
	run  func(h host, rng *rand.Rand) [][]float32
}
