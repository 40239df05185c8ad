package gpu

import "math"

// CPU twins of gpu/kernels/index.cu (tensor.CPU's loops; an out-of-range
// index gives NaN in a gather and is skipped by a scatter, as the kernels
// do).

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
