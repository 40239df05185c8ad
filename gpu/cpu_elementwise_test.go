package gpu

// CPU twins of gpu/kernels/elementwise.cu: the obvious loops.

func addRef(out, a, b []float32) {
	for i := range out {
		out[i] = a[i] + b[i]
	}
}

func fillRef(out []float32, v float32) {
	for i := range out {
		out[i] = v
	}
}
