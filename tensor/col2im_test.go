package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestCol2imAddMatchesNaive: Col2imAdd over tiles of columns that start and
// end mid-row, and over whole images, adds bit for bit what the obvious
// loop adds (per pixel, taps in the same order), for strides, dilation,
// padding wider than the kernel, rows of one pixel and rows longer than a
// vector, on one worker and two.
func TestCol2imAddMatchesNaive(t *testing.T) {
	geoms := im2colTestGeoms
	rng := rand.New(rand.NewPCG(5, 6))
	for _, g := range geoms {
		rows, cols := g.ColRows(), g.ColCols()
		col := randSlice(rng, rows*cols)
		base := randSlice(rng, g.C*g.H*g.W)
		for _, span := range []int{cols, 1, 5, g.OutW() + 3, cols/3 + 1} {
			want := append([]float32(nil), base...)
			for j0 := 0; j0 < cols; j0 += span {
				naiveCol2imAdd(col, g, j0, min(span, cols-j0), want)
			}
			for _, workers := range []int{1, 2} {
				d := NewCPU(workers)
				got := append([]float32(nil), base...)
				for j0 := 0; j0 < cols; j0 += span {
					s := min(span, cols-j0)
					tile := make([]float32, rows*s)
					for r := range rows {
						copy(tile[r*s:(r+1)*s], col[r*cols+j0:])
					}
					d.Col2imAdd(buf(tile), s, g, j0, s, buf(got))
				}
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%+v, tiles of %d, %d workers: x[%d] = %g, want %g", g, span, workers, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// im2colTestGeoms are the geometries of the im2col and col2im tests:
// strides, dilation, padding wider than the kernel, rows of one pixel and
// rows longer than a vector.
var im2colTestGeoms = []ConvGeom{
	{C: 5, H: 14, W: 14, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1},
	{C: 3, H: 7, W: 7, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1},
	{C: 2, H: 9, W: 37, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1},
	{C: 3, H: 11, W: 13, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1},
	{C: 2, H: 12, W: 19, KH: 3, KW: 5, StrideH: 2, StrideW: 1, PadH: 2, PadW: 3, DilationH: 1, DilationW: 2},
	{C: 2, H: 10, W: 10, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 2, PadW: 2, DilationH: 2, DilationW: 2},
	{C: 2, H: 6, W: 5, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 4, PadW: 3, DilationH: 1, DilationW: 1},
	{C: 3, H: 8, W: 1, KH: 3, KW: 1, StrideH: 1, StrideW: 1, PadH: 1, PadW: 0, DilationH: 1, DilationW: 1},
	{C: 4, H: 9, W: 11, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1},
	{C: 2, H: 9, W: 23, KH: 3, KW: 5, StrideH: 1, StrideW: 2, PadH: 1, PadW: 3, DilationH: 1, DilationW: 1},
	{C: 4, H: 15, W: 40, KH: 1, KW: 1, StrideH: 2, StrideW: 2, DilationH: 1, DilationW: 1},
}

// TestIm2colSpanMatchesNaive: spans of the column matrix that start and end
// mid-row, and whole matrices (Im2col, one worker and two), hold bit for
// bit the input pixel (or padding zero) each tap reads.
func TestIm2colSpanMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, g := range im2colTestGeoms {
		rows, cols, oh, ow := g.ColRows(), g.ColCols(), g.OutH(), g.OutW()
		x := randSlice(rng, g.C*g.H*g.W)
		want := make([]float32, rows*cols)
		for r := range rows {
			c, kh, kw := r/(g.KH*g.KW), r/g.KW%g.KH, r%g.KW
			for j := range oh * ow {
				ih, iw := j/ow*g.StrideH-g.PadH+kh*g.DilationH, j%ow*g.StrideW-g.PadW+kw*g.DilationW
				if ih >= 0 && ih < g.H && iw >= 0 && iw < g.W {
					want[r*cols+j] = x[(c*g.H+ih)*g.W+iw]
				}
			}
		}
		for _, span := range []int{cols, 1, 5, ow + 3, cols/3 + 1} {
			for r := range rows {
				for j0 := 0; j0 < cols; j0 += span {
					got := randSlice(rng, min(span, cols-j0))
					im2colSpan(x, g, ow, r, j0, got)
					for i, v := range got {
						if math.Float32bits(v) != math.Float32bits(want[r*cols+j0+i]) {
							t.Fatalf("%+v, row %d, span %d at %d: [%d] = %g, want %g", g, r, span, j0, i, v, want[r*cols+j0+i])
						}
					}
				}
			}
		}
		for _, workers := range []int{1, 2} {
			got := buf(randSlice(rng, rows*cols))
			NewCPU(workers).Im2col(buf(x), g, got)
			for i, v := range f(got) {
				if math.Float32bits(v) != math.Float32bits(want[i]) {
					t.Fatalf("%+v, Im2col on %d workers: [%d] = %g, want %g", g, workers, i, v, want[i])
				}
			}
		}
	}
}

// naiveCol2imAdd adds columns j0..j0+span of column matrix col of g onto
// x, channel by channel, taps in order, each tap over those pixels.
func naiveCol2imAdd(col []float32, g ConvGeom, j0, span int, x []float32) {
	oh, ow := g.OutH(), g.OutW()
	for c := range g.C {
		for kh := range g.KH {
			for kw := range g.KW {
				r := (c*g.KH+kh)*g.KW + kw
				for j := j0; j < j0+span; j++ {
					{
						y, xx := j/ow, j%ow
						ih, iw := y*g.StrideH-g.PadH+kh*g.DilationH, xx*g.StrideW-g.PadW+kw*g.DilationW
						if ih >= 0 && ih < g.H && iw >= 0 && iw < g.W {
							x[(c*g.H+ih)*g.W+iw] += col[r*oh*ow+y*ow+xx]
						}
					}
				}
			}
		}
	}
}

// TestAddRows: every width around the vector length, rows apart by more
// than their width, nothing written outside them.
func TestAddRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for w := 1; w <= 40; w++ {
		const rows, ds, ss = 3, 45, 41
		dst, src := randSlice(rng, rows*ds), randSlice(rng, rows*ss)
		want := append([]float32(nil), dst...)
		for r := range rows {
			for i := range w {
				want[r*ds+i] += src[r*ss+i]
			}
		}
		addRows(dst, src, w, rows, ds, ss)
		sameAdds(t, "addRows", w, dst, want)
		// Every other value of rows 2w apart.
		dst = randSlice(rng, rows*(2*w+3))
		want = append([]float32(nil), dst...)
		for r := range rows {
			for i := range w {
				want[r*(2*w+3)+2*i] += src[r*ss+i]
			}
		}
		addEvensRows(dst, src, w, rows, 2*w+3, ss)
		sameAdds(t, "addEvensRows", w, dst, want)
	}
	// The wrappers accept slices that end where the last row does.
	dst, src := make([]float32, 21), make([]float32, 21)
	addRows(dst[1:], src[1:], 20, 1, 20, 20)
	addEvensRows(dst[2:], src[11:], 10, 1, 19, 10)
}

// TestCopyRows: copyRows and evensRows against the scalar loops, every
// width around the vector length, rows apart by more than their width,
// nothing written outside them, and slices that end where the last row
// does (the masked tails must not read past it).
func TestCopyRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for w := 1; w <= 40; w++ {
		const rows, ds = 3, 45
		ss := 2*w + 5
		src := randSlice(rng, (rows-1)*ss+2*w-1)
		for _, evens := range []bool{false, true} {
			dst := randSlice(rng, rows*ds)
			want := append([]float32(nil), dst...)
			for r := range rows {
				for i := range w {
					if evens {
						want[r*ds+i] = src[r*ss+2*i]
					} else {
						want[r*ds+i] = src[r*ss+i]
					}
				}
			}
			name := "copyRows"
			if evens {
				name = "evensRows"
				evensRows(dst, src, w, rows, ds, ss)
			} else {
				copyRows(dst, src[:(rows-1)*ss+w], w, rows, ds, ss)
			}
			sameAdds(t, name, w, dst, want)
		}
	}
}

func sameAdds(t *testing.T, name string, w int, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s, w=%d: dst[%d] = %g, want %g", name, w, i, got[i], want[i])
		}
	}

}
