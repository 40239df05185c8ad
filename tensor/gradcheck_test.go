package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// input is one operand of a gradient check: host data and shape.
type input struct {
	data  []float32
	shape []int
}

func randInput(rng *rand.Rand, lo, hi float32, shape ...int) input {
	d := make([]float32, numel(shape))
	for i := range d {
		d[i] = lo + (hi-lo)*rng.Float32()
	}
	return input{d, shape}
}

// awayFrom returns values in ±[gap, 1+gap]: far from the kinks of ReLU, |x|
// and max, so central differences are exact enough.
func awayFrom(rng *rand.Rand, gap float32, shape ...int) input {
	d := make([]float32, numel(shape))
	for i := range d {
		v := gap + rng.Float32()
		if rng.IntN(2) == 0 {
			v = -v
		}
		d[i] = v
	}
	return input{d, shape}
}

// distinct returns a random permutation of well separated values, so the
// maximum of any window is unique by a wide margin.
func distinct(rng *rand.Rand, shape ...int) input {
	n := numel(shape)
	d := make([]float32, n)
	for i, p := range rng.Perm(n) {
		d[i] = float32(p)*0.1 - float32(n)*0.05
	}
	return input{d, shape}
}

// gradCheck compares the analytic gradients of L = Σ fn(xs)·r, r random,
// with central differences computed in float64 on the host.
func gradCheck(t *testing.T, fn func(xs []*Tensor) *Tensor, ins ...input) {
	t.Helper()
	e := NewEngine(NewCPU(0))
	rng := rand.New(rand.NewPCG(7, 11))
	xs := make([]*Tensor, len(ins))
	for i, in := range ins {
		xs[i] = e.FromData(in.data, in.shape...).SetRequiresGrad(true)
	}
	y := fn(xs)
	r := make([]float32, y.Len())
	for i := range r {
		r[i] = rng.Float32()*2 - 1
	}
	seed := e.get(len(r))
	e.dev.Upload(seed, r)
	y.backwardFrom(seed)
	loss := func() float64 {
		var s float64
		e.NoGrad(func() {
			m := e.Mark()
			for i, v := range fn(xs).Data() {
				s += float64(v) * float64(r[i])
			}
			e.Release(m)
		})
		return s
	}
	const eps = 1e-2
	for i, x := range xs {
		g := x.Grad()
		if g == nil {
			t.Fatalf("input %d got no gradient", i)
		}
		analytic := g.Data()
		data := CPUData(x.buf)
		// Check a spread of elements; all of them on small inputs.
		step := max(1, len(data)/40)
		for j := 0; j < len(data); j += step {
			orig := data[j]
			data[j] = orig + eps
			lp := loss()
			data[j] = orig - eps
			lm := loss()
			data[j] = orig
			num := (lp - lm) / (2 * eps)
			if !close64(float64(analytic[j]), num, 2e-2, 2e-2) {
				t.Fatalf("input %d element %d: analytic %.6g, numeric %.6g", i, j, analytic[j], num)
			}
		}
	}
}

func close64(a, b, atol, rtol float64) bool {
	return math.Abs(a-b) <= atol+rtol*math.Abs(b)
}

func TestGradUnary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		fn   func(*Tensor) *Tensor
		in   input
	}{
		{"relu", Relu, awayFrom(rng, 0.1, 3, 5)},
		{"sigmoid", Sigmoid, randInput(rng, -3, 3, 7)},
		{"tanh", Tanh, randInput(rng, -2, 2, 7)},
		{"exp", Exp, randInput(rng, -2, 2, 2, 3)},
		{"log", Log, randInput(rng, 0.5, 3, 5)},
		{"neg", Neg, randInput(rng, -1, 1, 5)},
		{"abs", Abs, awayFrom(rng, 0.1, 5)},
		{"sqrt", Sqrt, randInput(rng, 0.5, 3, 5)},
		{"rsqrt", func(x *Tensor) *Tensor { return Rsqrt(x, 1e-3) }, randInput(rng, 0.5, 3, 5)},
		{"square", Square, randInput(rng, -2, 2, 5)},
		{"scale", func(x *Tensor) *Tensor { return Scale(x, -1.5) }, randInput(rng, -2, 2, 5)},
		{"add scalar", func(x *Tensor) *Tensor { return AddScalar(x, 3) }, randInput(rng, -2, 2, 5)},
		{"softmax", Softmax, randInput(rng, -2, 2, 3, 5)},
		{"sum", Sum, randInput(rng, -2, 2, 3, 5)},
		{"mean", Mean, randInput(rng, -2, 2, 3, 5)},
		{"sum axis 1", func(x *Tensor) *Tensor { return SumAxis(x, 1, false) }, randInput(rng, -2, 2, 2, 3, 5)},
		{"mean axis -1", func(x *Tensor) *Tensor { return MeanAxis(x, -1, true) }, randInput(rng, -2, 2, 2, 3, 5)},
		{"reshape", func(x *Tensor) *Tensor { return Square(Reshape(x, 5, -1)) }, randInput(rng, -2, 2, 3, 5)},
		{"permute", func(x *Tensor) *Tensor { return Permute(x, 2, 0, 1) }, randInput(rng, -2, 2, 2, 3, 5)},
		{"transpose", func(x *Tensor) *Tensor { return Transpose(x, 0, 1) }, randInput(rng, -2, 2, 3, 5)},
		{"slice", func(x *Tensor) *Tensor { return Slice(x, 1, 1, 4) }, randInput(rng, -2, 2, 2, 5, 3)},
		{"slice last axis", func(x *Tensor) *Tensor { return Slice(x, -1, 0, 2) }, randInput(rng, -2, 2, 2, 5, 3)},
		{"concat with itself, axis -1", func(x *Tensor) *Tensor { return Concat(-1, x, Square(x)) }, randInput(rng, -2, 2, 3, 2)},
		{"maxpool 3/2/1", func(x *Tensor) *Tensor { return MaxPool2d(x, 3, 2, 1) }, distinct(rng, 2, 2, 7, 5)},
		{"maxpool 2/2/0", func(x *Tensor) *Tensor { return MaxPool2d(x, 2, 0, 0) }, distinct(rng, 1, 3, 6, 6)},
		{"avgpool 3/2/1", func(x *Tensor) *Tensor { return AvgPool2d(x, 3, 2, 1) }, randInput(rng, -1, 1, 2, 2, 7, 5)},
		{"adaptive avg 7x5->3x2", func(x *Tensor) *Tensor { return AdaptiveAvgPool2d(x, 3, 2) }, randInput(rng, -1, 1, 2, 2, 7, 5)},
		{"adaptive avg global", func(x *Tensor) *Tensor { return AdaptiveAvgPool2d(x, 1, 1) }, randInput(rng, -1, 1, 2, 3, 5, 5)},
		{"upsample x2", func(x *Tensor) *Tensor { return UpsampleNearest(x, 2) }, randInput(rng, -1, 1, 2, 3, 3, 5)},
		{"smooth l1", func(x *Tensor) *Tensor { return SmoothL1Loss(x, Reshape(Scale(x.Detach(), 0), x.Shape()...), 1) }, awayFrom(rng, 0.05, 9)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gradCheck(t, func(xs []*Tensor) *Tensor { return tc.fn(xs[0]) }, tc.in)
		})
	}
}

func TestGradBinary(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ops := []struct {
		name string
		fn   func(a, b *Tensor) *Tensor
	}{
		{"add", Add}, {"sub", Sub}, {"mul", Mul}, {"div", Div},
	}
	shapes := [][2][]int{
		{{3, 5}, {3, 5}},
		{{2, 3, 5}, {3, 1}},
		{{3, 1}, {1, 4}},
		{{5}, {2, 3, 5}},
	}
	for _, op := range ops {
		for _, s := range shapes {
			t.Run(fmt.Sprintf("%s %v %v", op.name, s[0], s[1]), func(t *testing.T) {
				a := randInput(rng, -2, 2, s[0]...)
				b := randInput(rng, 0.5, 2, s[1]...) // away from 0 for div
				gradCheck(t, func(xs []*Tensor) *Tensor { return op.fn(xs[0], xs[1]) }, a, b)
			})
		}
	}
}

func TestGradConcat(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, axis := range []int{0, 1, 2} {
		t.Run(fmt.Sprint("axis ", axis), func(t *testing.T) {
			a := randInput(rng, -1, 1, 2, 3, 4)
			sb := []int{2, 3, 4}
			sb[axis] = 3
			b := randInput(rng, -1, 1, sb...)
			gradCheck(t, func(xs []*Tensor) *Tensor { return Concat(axis, xs[0], xs[1]) }, a, b)
		})
	}
}

func TestGradConv2d(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	tests := []struct {
		n, c, h, w, cout, k int
		opt                 ConvOptions
		bias                bool
	}{
		{1, 2, 5, 5, 3, 3, ConvOptions{Padding: [2]int{1, 1}}, true},
		{2, 3, 7, 6, 2, 3, ConvOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}, false},
		{1, 2, 7, 7, 2, 3, ConvOptions{Dilation: [2]int{2, 2}, Padding: [2]int{2, 2}}, true},
		{2, 3, 5, 4, 4, 1, ConvOptions{}, true},
		{1, 3, 7, 5, 2, 1, ConvOptions{Stride: [2]int{2, 2}}, false},
		{1, 1, 9, 8, 2, 5, ConvOptions{Stride: [2]int{3, 2}, Padding: [2]int{2, 1}}, true},
		// Large enough for per-image GEMMs (OH·OW >= batchedColsLimit).
		{2, 2, 34, 33, 2, 3, ConvOptions{Padding: [2]int{1, 1}}, true},
		{2, 2, 33, 32, 2, 1, ConvOptions{}, false},
		// Input gradients through several dcol tiles (see the tile size
		// below): strided, stride 1x2 dilated, and stride 1.
		{1, 2, 34, 33, 2, 3, ConvOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}, false},
		{1, 2, 9, 8, 2, 3, ConvOptions{Stride: [2]int{1, 2}, Padding: [2]int{2, 1}, Dilation: [2]int{1, 2}}, false},
		{1, 2, 24, 23, 2, 3, ConvOptions{Padding: [2]int{3, 2}, Dilation: [2]int{2, 1}}, true},
	}
	defer func(v int) { dcolTileFloats = v }(dcolTileFloats)
	dcolTileFloats = 1
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%+v", tc), func(t *testing.T) {
			ins := []input{
				randInput(rng, -1, 1, tc.n, tc.c, tc.h, tc.w),
				randInput(rng, -1, 1, tc.cout, tc.c, tc.k, tc.k),
			}
			if tc.bias {
				ins = append(ins, randInput(rng, -1, 1, tc.cout))
			}
			gradCheck(t, func(xs []*Tensor) *Tensor {
				var b *Tensor
				if tc.bias {
					b = xs[2]
				}
				return Conv2d(xs[0], xs[1], b, tc.opt)
			}, ins...)
		})
	}
}

func TestGradLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	gradCheck(t, func(xs []*Tensor) *Tensor { return Linear(xs[0], xs[1], xs[2]) },
		randInput(rng, -1, 1, 3, 5), randInput(rng, -1, 1, 4, 5), randInput(rng, -1, 1, 4))
	gradCheck(t, func(xs []*Tensor) *Tensor { return MatMul(xs[0], xs[1]) },
		randInput(rng, -1, 1, 3, 5), randInput(rng, -1, 1, 5, 2))
}

func TestGradBatchNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	x := randInput(rng, -1, 2, 3, 4, 3, 5)
	w, b := randInput(rng, 0.5, 1.5, 4), randInput(rng, -1, 1, 4)
	t.Run("train", func(t *testing.T) {
		gradCheck(t, func(xs []*Tensor) *Tensor {
			return BatchNorm(xs[0], xs[1], xs[2], nil, nil, BatchNormOptions{Training: true, Eps: 1e-5})
		}, x, w, b)
	})
	t.Run("train no affine", func(t *testing.T) {
		gradCheck(t, func(xs []*Tensor) *Tensor {
			return BatchNorm(xs[0], nil, nil, nil, nil, BatchNormOptions{Training: true, Eps: 1e-5})
		}, x)
	})
	t.Run("eval", func(t *testing.T) {
		gradCheck(t, func(xs []*Tensor) *Tensor {
			e := xs[0].Engine()
			rm := e.FromData([]float32{0.1, -0.2, 0.3, 0}, 4)
			rv := e.FromData([]float32{1, 0.5, 2, 1.5}, 4)
			return BatchNorm(xs[0], xs[1], xs[2], rm, rv, BatchNormOptions{Eps: 1e-5})
		}, x, w, b)
	})
	t.Run("channel affine", func(t *testing.T) {
		gradCheck(t, func(xs []*Tensor) *Tensor { return ChannelAffine(xs[0], xs[1], xs[2]) }, x, w, b)
	})
}

func TestGradLosses(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	logits := randInput(rng, -2, 2, 6, 5)
	t.Run("cross entropy", func(t *testing.T) {
		gradCheck(t, func(xs []*Tensor) *Tensor {
			labels := xs[0].Engine().NewIndex([]int32{0, 4, IgnoreIndex, 2, 2, 1}, 6)
			return SoftmaxCrossEntropy(xs[0], labels, IgnoreIndex)
		}, logits)
	})
	t.Run("cross entropy mean weighted", func(t *testing.T) {
		gradCheck(t, func(xs []*Tensor) *Tensor {
			e := xs[0].Engine()
			labels := e.NewIndex([]int32{0, 4, -1, 2, 2, 1}, 6)
			w := e.FromData([]float32{1, 0.5, 1, 2, 0, 1}, 6)
			return CrossEntropyMean(xs[0], labels, w, -1)
		}, logits)
	})
	t.Run("bce with logits", func(t *testing.T) {
		gradCheck(t, func(xs []*Tensor) *Tensor {
			tg := xs[0].Engine().FromData([]float32{0, 1, 1, 0, 0.5, 1, 0, 0, 1, 0}, 2, 5)
			return BCEWithLogits(xs[0], tg)
		}, randInput(rng, -3, 3, 2, 5))
	})
	t.Run("smooth l1 beta", func(t *testing.T) {
		gradCheck(t, func(xs []*Tensor) *Tensor { return SmoothL1Loss(xs[0], xs[1], 0.5) },
			input{[]float32{0.1, -0.2, 1.3, -2, 0.4}, []int{5}}, input{[]float32{0, 0, 0, 0, 0.9}, []int{5}})
	})
	t.Run("l1", func(t *testing.T) {
		gradCheck(t, func(xs []*Tensor) *Tensor { return L1Loss(xs[0], xs[1]) },
			input{[]float32{0.1, -0.2, 1.3, -2, 0.4}, []int{5}}, input{[]float32{0.5, 0.3, 0, 0, 0.9}, []int{5}})
	})
}

func TestGradIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	t.Run("index select repeated", func(t *testing.T) {
		gradCheck(t, func(xs []*Tensor) *Tensor {
			idx := xs[0].Engine().NewIndex([]int32{3, 0, 3, 1}, 4)
			return IndexSelect(xs[0], 1, idx)
		}, randInput(rng, -1, 1, 2, 5, 3))
	})
	t.Run("gather", func(t *testing.T) {
		gradCheck(t, func(xs []*Tensor) *Tensor {
			idx := xs[0].Engine().NewIndex([]int32{0, 2, 2, 1, 1, 1, 4, 3, 0}, 3, 3)
			return Gather(xs[0], idx)
		}, randInput(rng, -1, 1, 3, 5))
	})
	t.Run("top k", func(t *testing.T) {
		gradCheck(t, func(xs []*Tensor) *Tensor {
			v, _ := TopK(xs[0], 3, true)
			return v
		}, distinct(rng, 3, 7))
	})
}
