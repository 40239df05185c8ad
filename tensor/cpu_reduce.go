package tensor

import (
	"math"
)

// ReduceSum implements Device.
func (d *CPU) ReduceSum(x Buffer, outer, mid, inner int, y Buffer) {
	xs, ys := f(x), f(y)
	checkLen("reduce sum input", outer*mid*inner, len(xs))
	checkLen("reduce sum output", outer*inner, len(ys))
	if inner == 1 {
		d.parallel(outer, max(1, elemGrain/max(mid, 1)), func(lo, hi int) {
			for o := lo; o < hi; o++ {
				ys[o] = sumF64(xs[o*mid : (o+1)*mid])
			}
		})
		return
	}
	d.parallel(outer, 1, func(lo, hi int) {
		acc := make([]float64, inner)
		for o := lo; o < hi; o++ {
			clear(acc)
			for m := 0; m < mid; m++ {
				row := xs[(o*mid+m)*inner : (o*mid+m+1)*inner]
				for i, v := range row {
					acc[i] += float64(v)
				}
			}
			for i, v := range acc {
				ys[o*inner+i] = float32(v)
			}
		}
	})
}

// sumF64 sums in float64 so long reductions stay accurate.
func sumF64(xs []float32) float32 { return float32(sum1(xs)) }

// Softmax implements Device.
func (d *CPU) Softmax(x Buffer, rows, cols int, y Buffer) {
	xs, ys := f(x), f(y)
	checkLen("softmax", rows*cols, len(xs))
	checkLen("softmax", rows*cols, len(ys))
	d.parallel(rows, max(1, elemGrain/max(cols, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			softmaxRow(xs[r*cols:(r+1)*cols], ys[r*cols:(r+1)*cols])
		}
	})
}

// softmaxRow subtracts the row maximum first so exp never overflows.
func softmaxRow(x, y []float32) {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	var s float64
	for i, v := range x {
		e := exp32(v - m)
		y[i] = e
		s += float64(e)
	}
	inv := float32(1 / s)
	for i := range y {
		y[i] *= inv
	}
}

// SoftmaxBackward implements Device.
func (d *CPU) SoftmaxBackward(y, dy Buffer, rows, cols int, dx Buffer) {
	ys, dys, dxs := f(y), f(dy), f(dx)
	for r := 0; r < rows; r++ {
		yr, gr, xr := ys[r*cols:(r+1)*cols], dys[r*cols:(r+1)*cols], dxs[r*cols:(r+1)*cols]
		var dot float64
		for i := range yr {
			dot += float64(yr[i]) * float64(gr[i])
		}
		for i := range yr {
			xr[i] = yr[i] * (gr[i] - float32(dot))
		}
	}
}
