package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestTransposeBlocks compares the block transposes used by the AVX-512
// packs (assembly, or their twins under noasm) with transposeGo, for column
// counts around the 16-column block size, with NaN guards around dst.
func TestTransposeBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, rows := range []int{14, 16} {
		for _, cols := range []int{0, 1, 15, 16, 17, 33, 64, 70} {
			const ld, stride = 83, 32
			src := make([]float32, rows*ld)
			for i := range src {
				src[i] = rng.Float32()
			}
			alpha := float32(-1.5)
			if rows == 16 {
				alpha = 1
			}
			size := max(cols*stride, 1)
			got := newNaNs(size + 2*guard)
			want := newNaNs(size + 2*guard)
			transposeGo(want[guard:], src, ld, rows, cols, stride, alpha)
			if rows == 14 {
				transposeBlocks14Stride(got[guard:], src, ld, cols, stride, alpha)
			} else {
				transposeBlocks16(got[guard:], src, ld, cols, stride)
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("rows=%d cols=%d: element %d = %g, want %g", rows, cols, i-guard, got[i], want[i])
				}
			}
		}
	}
}

// TestPackA14T compares packA's transposed-A copy, with the AVX-512 moves
// (or their twin) where a runnable kernel packs with them and without, with
// the definition, src ending where its
// last row does and NaN guards around dst.
func TestPackA14T(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, kc := range []int{0, 1, 2, 7, 64, 321} {
		const lda = 23
		src := randomSlice(rng, max(0, (kc-1)*lda+14))
		want := newNaNs(kc*14 + 2*guard)
		for p := range kc {
			copy(want[guard+p*14:], src[p*lda:p*lda+14])
		}
		for _, kern := range runnableKernels() {
			simd := kern.simd // the AVX-512 moves only where they run
			got := newNaNs(kc*14 + 2*guard)
			packA14T(got[guard:guard+kc*14], src, lda, kc, simd)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("kc=%d simd=%v: element %d = %g, want %g", kc, simd, i-guard, got[i], want[i])
				}
			}
		}
	}
}

// transposeBlocks14Stride is transposeBlocks14 with a free destination
// stride, to test the assembly's stride handling.
func transposeBlocks14Stride(dst, src []float32, ld, cols, stride int, alpha float32) {
	chunks := cols / 16
	transpose14AVX512(dst, src, ld, chunks, stride, alpha)
	if done := 16 * chunks; done < cols {
		transposeGo(dst[done*stride:], src[done:], ld, 14, cols-done, stride, alpha)
	}
}

func newNaNs(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(math.NaN())
	}
	return s
}

// TestPackBMatchesReference packs every panel of op(B), task by task as a
// call's schedule does, for both layouts of B, every runnable kernel's
// sliver width, odd shapes and row strides wider than the matrix, and
// compares the packed bits with packBRef's. dst starts as NaNs, so an
// element no task writes fails too.
func TestPackBMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	bl := blocking{mc: 40, kc: 37, nc: 3 * 32}
	for _, kern := range runnableKernels() {
		for _, transB := range []bool{false, true} {
			for _, sh := range [][3]int{{1, 1, 0}, {5, 33, 3}, {37, 31, 0}, {75, 200, 7}, {111, 97, 64}} {
				k, n, pad := sh[0], sh[1], sh[2]
				rows, cols := k, n
				if transB {
					rows, cols = n, k
				}
				g := gemmCall{m: 1, n: n, k: k, transB: transB, b: randomSlice(rng, rows*(cols+pad)), ldb: cols + pad}
				ws := &workspace{}
				for _, p := range packPanels(&g, ws, kern, bl) {
					got, want := ws.packedB[0][:p.kc*p.slivers*kern.nr], newNaNs(p.kc*p.slivers*kern.nr)
					for i := range got {
						got[i] = float32(math.NaN())
					}
					for task := range p.packTasks() {
						p.packB(0, task)
					}
					packBRef(want, &g, p.pc, p.kc, p.jc, p.nc, kern.nr)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s transB=%v k=%d n=%d ldb=%d panel pc=%d jc=%d: element %d = %g, want %g",
								kern.name, transB, k, n, g.ldb, p.pc, p.jc, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// packBRef is the packed layout written out element by element:
// dst[(s*kc+p)*nr+jj] = op(B)[pc+p][jc+s*nr+jj], zero past the panel.
func packBRef(dst []float32, g *gemmCall, pc, kc, jc, nc, nr int) {
	for s := 0; s*nr < nc; s++ {
		for p := range kc {
			for jj := range nr {
				v, j := float32(0), s*nr+jj
				switch {
				case j >= nc:
				case g.transB:
					v = g.b[(jc+j)*g.ldb+pc+p]
				default:
					v = g.b[(pc+p)*g.ldb+jc+j]
				}
				dst[(s*kc+p)*nr+jj] = v
			}
		}
	}
}

// TestTranspose compares Transpose with transposeGo for row and column
// counts around the 16×16 block, remainders of rows included (a conv's 9
// taps), with src ending where its last row does and NaN guards around dst.
func TestTranspose(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, rows := range []int{1, 5, 9, 15, 16, 17, 31, 40} {
		for _, cols := range []int{1, 7, 9, 14, 15, 16, 17, 33} {
			ld, stride := cols+3, rows+2
			src := make([]float32, (rows-1)*ld+cols)
			for i := range src {
				src[i] = rng.Float32()
			}
			size := (cols-1)*stride + rows
			got, want := newNaNs(size+2*guard), newNaNs(size+2*guard)
			transposeGo(want[guard:], src, ld, rows, cols, stride, 1)
			Transpose(got[guard:guard+size], src, ld, rows, cols, stride)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("rows=%d cols=%d: element %d = %g, want %g", rows, cols, i-guard, got[i], want[i])
				}
			}
		}
	}
}
