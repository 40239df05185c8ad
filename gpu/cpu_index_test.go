package gpu

import "math"

// CPU twins of gpu/kernels/index.cu and softmax.cu (tensor.CPU's loops;
// an out-of-range index gives NaN in a gather and is skipped by a scatter,
// as the kernels do).

func indexSelectRef(dst, src []float32, idx []int32, outer, dim, inner int) {
	nidx := len(idx)
	for o := range outer {
		for j, t := range idx {
			for i := range inner {
				v := float32(math.NaN())
				if t >= 0 && int(t) < dim {
					v = src[(o*dim+int(t))*inner+i]
				}
				dst[(o*nidx+j)*inner+i] = v
			}
		}
	}
}

func indexAddRef(dst, src []float32, idx []int32, outer, dim, inner int) {
	nidx := len(idx)
	for o := range outer {
		for j, t := range idx {
			if t < 0 || int(t) >= dim {
				continue
			}
			for i := range inner {
				dst[(o*dim+int(t))*inner+i] += src[(o*nidx+j)*inner+i]
			}
		}
	}
}

func gatherRowsRef(dst, src []float32, idx []int32, rows, cols, k int) {
	for r := range rows {
		for j := range k {
			v := float32(math.NaN())
			if t := idx[r*k+j]; t >= 0 && int(t) < cols {
				v = src[r*cols+int(t)]
			}
			dst[r*k+j] = v
		}
	}
}

func scatterAddRowsRef(dst, src []float32, idx []int32, rows, cols, k int) {
	for r := range rows {
		for j := range k {
			if t := idx[r*k+j]; t >= 0 && int(t) < cols {
				dst[r*cols+int(t)] += src[r*k+j]
			}
		}
	}
}

// softmaxRowsRef subtracts the row maximum (NaN-propagating, Go's max),
// exponentiates in float32 and sums in float64, as tensor.CPU does.
func softmaxRowsRef(y, x []float32, rows, cols int) {
	for r := range rows {
		xr, yr := x[r*cols:(r+1)*cols], y[r*cols:(r+1)*cols]
		m := float32(math.Inf(-1))
		for _, v := range xr {
			m = max(m, v)
		}
		var s float64
		for c, v := range xr {
			e := float32(math.Exp(float64(v - m)))
			yr[c] = e
			s += float64(e)
		}
		inv := float32(1 / s)
		for c := range yr {
			yr[c] *= inv
		}
	}
}

func softmaxRowsBwdRef(dx, y, dy []float32, rows, cols int) {
	for r := range rows {
		yr, gr, xr := y[r*cols:(r+1)*cols], dy[r*cols:(r+1)*cols], dx[r*cols:(r+1)*cols]
		var dot float64
		for c := range yr {
			dot += float64(yr[c]) * float64(gr[c])
		}
		for c := range yr {
			xr[c] = yr[c] * (gr[c] - float32(dot))
		}
	}
}
