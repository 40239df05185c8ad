package gpu

import "fmt"

// Typed launchers for gpu/kernels/im2col.cu, batchnorm.cu, maxpool.cu,
// upsample.cu, softmax_ce.cu and smooth_l1.cu.

// Im2col writes the [C*KH*KW, OH*OW] column matrix of one [C,H,W] image.
func (d *Device) Im2col(col, im DevPtr, g ConvGeom) error {
	if err := g.check(); err != nil {
		return err
	}
	return d.launch1D(kIm2col, g.ColSize(), append([]any{col, im}, g.args()...)...)
}

// Col2im overwrites the [C,H,W] image with the sum of the column entries
// that read each pixel (the adjoint of Im2col).
func (d *Device) Col2im(im, col DevPtr, g ConvGeom) error {
	if err := g.check(); err != nil {
		return err
	}
	return d.launch1D(kCol2im, g.C*g.H*g.W, append([]any{im, col}, g.args()...)...)
}

func (g ConvGeom) check() error {
	if g.C <= 0 || g.H <= 0 || g.W <= 0 || g.KH <= 0 || g.KW <= 0 || g.StrideH <= 0 || g.StrideW <= 0 ||
		g.DilH <= 0 || g.DilW <= 0 || g.PadH < 0 || g.PadW < 0 || g.OH() <= 0 || g.OW() <= 0 {
		return fmt.Errorf("conv geometry %+v: sizes, strides and dilations must be positive, pads >= 0, output non-empty", g)
	}
	return nil
}

func (g ConvGeom) args() []any {
	return []any{i32(g.C), i32(g.H), i32(g.W), i32(g.KH), i32(g.KW), i32(g.PadH), i32(g.PadW),
		i32(g.StrideH), i32(g.StrideW), i32(g.DilH), i32(g.DilW), i32(g.OH()), i32(g.OW())}
}

// bnThreads matches BN_THREADS in batchnorm.cu.
const bnThreads = 256

// BatchNormTrainFwd normalises x ([N,C,HW]) with batch statistics, saves
// mean and 1/std per channel for the backward pass and updates the running
// statistics unless runMean is 0.
func (d *Device) BatchNormTrainFwd(y, saveMean, saveInvStd, runMean, runVar, x, gamma, beta DevPtr, n, c, hw int, eps, momentum float32) error {
	if c == 0 || n*hw == 0 {
		return nil
	}
	return d.do(func() error {
		return d.launch(kBNTrainFwd, dim3{uint32(c), 1, 1}, dim3{bnThreads, 1, 1}, 0,
			y, saveMean, saveInvStd, runMean, runVar, x, gamma, beta, i32(n), i32(c), i32(hw), eps, momentum)
	})
}

// BatchNormTrainBwd overwrites dx, dgamma and dbeta.
func (d *Device) BatchNormTrainBwd(dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd DevPtr, n, c, hw int) error {
	if c == 0 || n*hw == 0 {
		return nil
	}
	return d.do(func() error {
		return d.launch(kBNTrainBwd, dim3{uint32(c), 1, 1}, dim3{bnThreads, 1, 1}, 0,
			dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd, i32(n), i32(c), i32(hw))
	})
}

// BatchNormInfer normalises with given statistics (eval mode, frozen BN).
func (d *Device) BatchNormInfer(y, x, gamma, beta, mean, variance DevPtr, n, c, hw int, eps float32) error {
	return d.launch1D(kBNInfer, n*c*hw, y, x, gamma, beta, mean, variance, i32(n), i32(c), i32(hw), eps)
}

func (g PoolGeom) check() error {
	if g.NC <= 0 || g.H <= 0 || g.W <= 0 || g.KH <= 0 || g.KW <= 0 || g.StrideH <= 0 || g.StrideW <= 0 ||
		g.PadH < 0 || g.PadW < 0 || 2*g.PadH > g.KH || 2*g.PadW > g.KW || g.OH() <= 0 || g.OW() <= 0 {
		return fmt.Errorf("pool geometry %+v: sizes and strides must be positive, 0 <= pad <= kernel/2, output non-empty", g)
	}
	return nil
}

func (g PoolGeom) args() []any {
	return []any{i32(g.NC), i32(g.H), i32(g.W), i32(g.KH), i32(g.KW), i32(g.StrideH), i32(g.StrideW),
		i32(g.PadH), i32(g.PadW), i32(g.OH()), i32(g.OW())}
}

// MaxPoolFwd writes the pooled y and the int32 argmax (flat index in the
// input plane) used by MaxPoolBwd.
func (d *Device) MaxPoolFwd(y, argmax, x DevPtr, g PoolGeom) error {
	if err := g.check(); err != nil {
		return err
	}
	return d.launch1D(kMaxPoolFwd, g.NC*g.OH()*g.OW(), append([]any{y, argmax, x}, g.args()...)...)
}

// MaxPoolBwd overwrites dx with the gradient gathered through argmax.
func (d *Device) MaxPoolBwd(dx, dy, argmax DevPtr, g PoolGeom) error {
	if err := g.check(); err != nil {
		return err
	}
	return d.launch1D(kMaxPoolBwd, g.NC*g.H*g.W, append([]any{dx, dy, argmax}, g.args()...)...)
}

// UpsampleNearestFwd writes y ([NC,S·H,S·W]) from x ([NC,H,W]), nearest.
func (d *Device) UpsampleNearestFwd(y, x DevPtr, nc, h, w, s int) error {
	if s < 1 {
		return fmt.Errorf("upsample nearest: scale %d", s)
	}
	return d.launch1D(kUpsampleFwd, s*s*nc*h*w, y, x, i32(nc), i32(h), i32(w), i32(s))
}

// UpsampleNearestBwd overwrites dx with the sum of its S×S output gradients.
func (d *Device) UpsampleNearestBwd(dx, dy DevPtr, nc, h, w, s int) error {
	if s < 1 {
		return fmt.Errorf("upsample nearest: scale %d", s)
	}
	return d.launch1D(kUpsampleBwd, nc*h*w, dx, dy, i32(nc), i32(h), i32(w), i32(s))
}

// ChannelMeanVar writes the per-channel mean and biased variance of x
// [N,C,HW].
func (d *Device) ChannelMeanVar(mean, variance, x DevPtr, n, c, hw int) error {
	if c == 0 || n*hw == 0 {
		return nil
	}
	return d.do(func() error {
		return d.launch(kChannelMeanVar, dim3{uint32(c), 1, 1}, dim3{bnThreads, 1, 1}, 0, mean, variance, x, i32(n), i32(c), i32(hw))
	})
}

// ChannelAffine computes y = x·scale[c] + shift[c] (scale, shift may be 0).
func (d *Device) ChannelAffine(y, x, scale, shift DevPtr, n, c, hw int) error {
	return d.launch1D(kChannelAffine, n*c*hw, y, x, scale, shift, i32(n), i32(c), i32(hw))
}

// ChannelAffineBwd computes dx = dy·scale[c], dscale[c] = Σ dy·x and
// dshift[c] = Σ dy; any output may be 0.
func (d *Device) ChannelAffineBwd(dx, dscale, dshift, x, dy, scale DevPtr, n, c, hw int) error {
	if c == 0 || n*hw == 0 {
		return nil
	}
	return d.do(func() error {
		return d.launch(kChannelAffineBwd, dim3{uint32(c), 1, 1}, dim3{bnThreads, 1, 1}, 0,
			dx, dscale, dshift, x, dy, scale, i32(n), i32(c), i32(hw))
	})
}

// SoftmaxCEFwd writes per-row losses and the softmax probabilities of
// N×K logits; labels are int32 (ignoreIndex rows get loss 0); weight may be
// 0 (all ones).
func (d *Device) SoftmaxCEFwd(loss, prob, logits, labels, weight DevPtr, n, k, ignoreIndex int) error {
	if k <= 0 {
		return fmt.Errorf("softmax cross-entropy: %d classes", k)
	}
	return d.launch1D(kSoftmaxCEFwd, n, loss, prob, logits, labels, weight, i32(n), i32(k), i32(ignoreIndex))
}

// SoftmaxCEBwd overwrites dlogits = scale*weight*(prob - onehot(label)).
func (d *Device) SoftmaxCEBwd(dlogits, prob, labels, weight DevPtr, n, k, ignoreIndex int, scale float32) error {
	return d.launch1D(kSoftmaxCEBwd, n*k, dlogits, prob, labels, weight, i32(n), i32(k), i32(ignoreIndex), scale)
}

// SmoothL1Fwd writes the unreduced, weighted smooth-L1 loss (weight may be 0).
func (d *Device) SmoothL1Fwd(loss, pred, target, weight DevPtr, beta float32, n int) error {
	return d.launch1D(kSmoothL1Fwd, n, loss, pred, target, weight, beta, i32(n))
}

// SmoothL1Bwd overwrites dpred with scale times the weighted gradient.
func (d *Device) SmoothL1Bwd(dpred, pred, target, weight DevPtr, beta, scale float32, n int) error {
	return d.launch1D(kSmoothL1Bwd, n, dpred, pred, target, weight, beta, scale, i32(n))
}
