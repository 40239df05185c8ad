package gpu

// CPU twin of gpu/kernels/reduce.cu: float64 accumulation.

// sumRef and sumSqRef accumulate in float64, a tighter oracle than the
// float32 tree the kernel uses.
func sumRef(x []float32) float32 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return float32(s)
}

func sumSqRef(x []float32) float32 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return float32(s)
}
