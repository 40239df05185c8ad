package gpu

import "math"

// CPU twin of gpu/kernels/softmax.cu (tensor.CPU's loops).

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
