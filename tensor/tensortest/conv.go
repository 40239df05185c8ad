package tensortest

import (
	"math/rand/v2"

	"github.com/detflow/detflow/tensor"
)

// Conv2dPass runs tensor.Conv2d forward and backward on dev with seeded
// normal inputs x [n,c,h,w], weight [cout,c,k,k] and a bias, and returns
// the output and the gradients of x, weight and bias for the loss
// sum(y * r), r seeded too: the same call on two devices must agree.
func Conv2dPass(dev tensor.Device, seed uint64, n, c, h, w, cout, k int, opt tensor.ConvOptions) [4][]float32 {
	return convPass(dev, seed, n, c, h, w, cout, k, []int{cout, c, k, k}, func(x, wt, b *tensor.Tensor) *tensor.Tensor {
		return tensor.Conv2d(x, wt, b, opt)
	})
}

// ConvTranspose2dPass is Conv2dPass for tensor.ConvTranspose2d: x
// [n,c,h,w], weight [c,cout,k,k]; it returns y, dx, dw and db.
func ConvTranspose2dPass(dev tensor.Device, seed uint64, n, c, h, w, cout, k int, opt tensor.ConvTransposeOptions) [4][]float32 {
	return convPass(dev, seed, n, c, h, w, cout, k, []int{c, cout, k, k}, func(x, wt, b *tensor.Tensor) *tensor.Tensor {
		return tensor.ConvTranspose2d(x, wt, b, opt)
	})
}

// convPass runs op forward and backward on seeded inputs: x [n,c,h,w], a
// weight of wshape, a bias [cout] and the upstream gradient r.
func convPass(dev tensor.Device, seed uint64, n, c, h, w, cout, k int, wshape []int, op func(x, wt, b *tensor.Tensor) *tensor.Tensor) [4][]float32 {
	rng := rand.New(rand.NewPCG(seed, uint64(n*1000+k)))
	rnd := func(m int) []float32 {
		out := make([]float32, m)
		for i := range out {
			out[i] = float32(rng.NormFloat64())
		}
		return out
	}
	e := tensor.NewEngine(dev)
	x := e.FromData(rnd(n*c*h*w), n, c, h, w).SetRequiresGrad(true)
	wt := e.FromData(rnd(cout*c*k*k), wshape...).SetRequiresGrad(true)
	b := e.FromData(rnd(cout), cout).SetRequiresGrad(true)
	y := op(x, wt, b)
	r := e.FromData(rnd(y.Len()), y.Shape()...)
	tensor.Sum(tensor.Mul(y, r)).Backward()
	return [4][]float32{y.Data(), x.Grad().Data(), wt.Grad().Data(), b.Grad().Data()}
}
