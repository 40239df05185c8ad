package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// specialValues are the inputs where vector and scalar code most often
// part ways: signed zeros, infinities, NaNs of both signs, subnormals.
var specialValues = []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
	float32(math.NaN()), math.Float32frombits(0xffc00001), 1e-42, -1e-42, math.MaxFloat32, -math.MaxFloat32}

// simdInput returns n values, random with a sprinkle of specialValues.
func simdInput(rng *rand.Rand, n int) []float32 {
	xs := make([]float32, n)
	for i := range xs {
		if rng.IntN(8) == 0 {
			xs[i] = specialValues[rng.IntN(len(specialValues))]
		} else {
			xs[i] = float32(rng.NormFloat64() * 3)
		}
	}
	return xs
}

func sameFloatBits(t *testing.T, what string, n int, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s, n=%d: [%d] = %v (%#x), scalar loop gives %v (%#x)", what, n, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// TestVectorLoopsMatchScalar checks each vector loop the CPU device uses
// against the scalar Go loop it stands in for, bit for bit, on lengths
// around the vector block and with NaNs, infinities and signed zeros.
func TestVectorLoopsMatchScalar(t *testing.T) {
	if !useAVX512 {
		t.Skip("no vector loops on this machine or build")
	}
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{0, 1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 100, 1027} {
		xs, gs := simdInput(rng, n), simdInput(rng, n)
		got, want := make([]float32, n), make([]float32, n)

		unaryRange(UnaryRelu, 0, xs, got)
		for i, v := range xs {
			want[i] = max(v, 0)
		}
		sameFloatBits(t, "relu", n, got, want)

		unaryBackwardRange(UnaryRelu, 0, xs, nil, gs, got)
		for i, g := range gs {
			want[i] = math.Float32frombits(math.Float32bits(g) & positiveMask(xs[i]))
		}
		sameFloatBits(t, "relu backward", n, got, want)

		a, b := float32(rng.NormFloat64()), float32(rng.NormFloat64())
		NewCPU(1).ChannelAffine(buf(xs), 1, 1, n, buf([]float32{a}), buf([]float32{b}), buf(got))
		for i, v := range xs {
			want[i] = float32(v*a) + b
		}
		sameFloatBits(t, "channel affine", n, got, want)

		copy(got, xs)
		addTo(got, gs)
		for i := range want {
			want[i] = xs[i] + gs[i]
		}
		sameFloatBits(t, "add", n, got, want)

		// Gradient accumulation: Axpby(1, g, 1, y) is y += 1*g.
		copy(got, xs)
		NewCPU(1).Axpby(1, buf(gs), 1, buf(got))
		for i := range want {
			want[i] = xs[i] + 1*gs[i]
		}
		sameFloatBits(t, "axpby 1, 1", n, got, want)

		// A stride-2 row gather reads no further than its last value.
		if n > 0 {
			ev := simdInput(rng, 2*n-1)
			gatherStrided(got, ev, 2)
			for i := range want {
				want[i] = ev[2*i]
			}
			sameFloatBits(t, "stride-2 gather", n, got, want)
		}

		// The batch-norm backward kernel on the specials, with set
		// statistics; then the device's whole BatchNormBackward on finite
		// values (a NaN anywhere makes every output NaN).
		p := [5]float32{0.3, 1.7, -0.2, 0.9, 1.1}
		clear(got)
		for i := bnGradVec(got, xs, gs, &p); i < n; i++ {
			got[i] = bnGradScalar(xs[i], gs[i], p)
		}
		for i := range want {
			want[i] = bnGradScalar(xs[i], gs[i], p)
		}
		sameFloatBits(t, "batch norm backward kernel", n, got, want)
		if n > 0 {
			fx, fg := finiteInput(rng, n), finiteInput(rng, n)
			m, inv, w := float32(0.1), float32(1.3), float32(0.7)
			NewCPU(1).BatchNormBackward(buf(fx), buf(fg), 1, 1, n, buf([]float32{m}), buf([]float32{inv}), buf([]float32{w}), buf(got), nil, nil)
			sg, sgRaw := dotSumScalar(fg, fx)
			sgx := float64(inv) * (sgRaw - float64(m)*sg)
			q := [5]float32{m, inv, float32(sg / float64(n)), float32(sgx / float64(n)), w * inv}
			for i := range want {
				want[i] = bnGradScalar(fx[i], fg[i], q)
			}
			sameFloatBits(t, "batch norm backward", n, got, want)
		}

		s, q := sum2(xs)
		ws, wq := dotSumScalar(xs, xs)
		sg, sgx := dotSum(gs, xs)
		wg, wgx := dotSumScalar(gs, xs)
		for _, c := range [][2]float64{{s, ws}, {q, wq}, {sg, wg}, {sgx, wgx}} {
			if math.Float64bits(c[0]) != math.Float64bits(c[1]) && !(math.IsNaN(c[0]) && math.IsNaN(c[1])) {
				t.Fatalf("sums, n=%d: %v, scalar loop gives %v", n, c[0], c[1])
			}
		}
	}
}

// bnGradScalar is CPU.BatchNormBackward's input gradient for one value,
// p = {mean, invstd, mean of dy, mean of dy·x̂, weight·invstd}.
func bnGradScalar(x, g float32, p [5]float32) float32 {
	xh := (x - p[0]) * p[1]
	return p[4] * (g - p[2] - xh*p[3])
}

// finiteInput is simdInput without NaNs and infinities.
func finiteInput(rng *rand.Rand, n int) []float32 {
	xs := simdInput(rng, n)
	for i, v := range xs {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || math.Abs(float64(v)) > 1e30 {
			xs[i] = float32(rng.NormFloat64())
		}
	}
	return xs
}

// dotSumScalar is dotSum as the scalar loop; dotSumScalar(xs, xs) is sum2.
func dotSumScalar(gs, xs []float32) (sg, sgx float64) {
	var acc [8]float64
	for i, g := range gs {
		l := i % 4
		if i >= len(gs)&^3 {
			l = 0
		}
		acc[l] += float64(g)
		acc[4+l] += float64(g) * float64(xs[i])
	}
	return (acc[0] + acc[1]) + (acc[2] + acc[3]), (acc[4] + acc[5]) + (acc[6] + acc[7])
}
