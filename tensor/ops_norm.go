package tensor

// BatchNormOptions configures BatchNorm.
type BatchNormOptions struct {
	// Training normalises with batch statistics and updates the running
	// ones; otherwise the running statistics are used (eval / frozen mode).
	Training bool
	Momentum float32 // running = (1−Momentum)·running + Momentum·batch (PyTorch's convention), e.g. 0.1
	Eps      float32 // e.g. 1e-5
	// InPlace lets eval mode write y over x's buffer (ChannelAffineInPlace):
	// x must not be used again. Training mode ignores it (its backward
	// reads x).
	InPlace bool
}

// BatchNorm normalises x [N,C,...] per channel (PyTorch's batch_norm).
// weight and bias [C] may be nil (affine=false). runningMean and runningVar
// [C] are updated in place in training mode (with the unbiased batch
// variance, as PyTorch does) and may then be nil to skip tracking.
func BatchNorm(x, weight, bias, runningMean, runningVar *Tensor, opt BatchNormOptions) *Tensor {
	e := x.eng
	e.checkEngine(weight, bias, runningMean, runningVar)
	if len(x.shape) < 2 {
		Panicf("tensor: batch norm of shape %v", x.shape)
	}
	if !opt.Training {
		return batchNormEval(x, weight, bias, runningMean, runningVar, opt.Eps, opt.InPlace)
	}
	n, c, hw := x.shape[0], x.shape[1], numel(x.shape[2:])
	d := e.dev
	mean, variance, invstd := e.alloc(c), e.alloc(c), e.alloc(c)
	d.ChannelMeanVar(x.buf, n, c, hw, mean, variance)
	d.Unary(UnaryRsqrt, opt.Eps, variance, invstd)
	if runningMean != nil {
		d.Axpby(opt.Momentum, mean, 1-opt.Momentum, runningMean.buf)
	}
	if runningVar != nil {
		cnt := float32(n * hw)
		unbias := cnt / max(cnt-1, 1)
		d.Axpby(opt.Momentum*unbias, variance, 1-opt.Momentum, runningVar.buf)
	}
	// scale = weight·invstd, shift = bias − mean·scale, then one affine pass.
	scale, shift := e.alloc(c), e.alloc(c)
	if weight != nil {
		d.Binary(BinaryMul, weight.buf, invstd, scale)
	} else {
		d.Copy(scale, invstd)
	}
	d.Binary(BinaryMul, mean, scale, shift)
	d.Unary(UnaryNeg, 0, shift, shift)
	if bias != nil {
		d.Binary(BinaryAdd, shift, bias.buf, shift)
	}
	y := e.newLike(x.shape)
	d.ChannelAffine(x.buf, n, c, hw, scale, shift, y.buf)
	record(y, []*Tensor{x, weight, bias}, func(dy Buffer) []Buffer {
		var dx, dw, db Buffer
		if wants(x) {
			dx = e.get(x.Len())
		}
		if wants(weight) {
			dw = e.get(c)
		}
		if wants(bias) {
			db = e.get(c)
		}
		var wb Buffer
		if weight != nil {
			wb = weight.buf
		}
		d.BatchNormBackward(x.buf, dy, n, c, hw, mean, invstd, wb, dx, dw, db)
		return []Buffer{dx, dw, db}
	})
	return y
}

// batchNormEval is y = x·scale + shift with scale = weight/√(var+eps) and
// shift = bias − mean·scale, built from differentiable ops so an unfrozen
// weight and bias still receive gradients.
func batchNormEval(x, weight, bias, runningMean, runningVar *Tensor, eps float32, inPlace bool) *Tensor {
	if runningMean == nil || runningVar == nil {
		Panicf("tensor: batch norm in eval mode needs running statistics")
	}
	scale := Rsqrt(runningVar.Detach(), eps)
	if weight != nil {
		scale = Mul(weight, scale)
	}
	shift := Neg(Mul(runningMean.Detach(), scale))
	if bias != nil {
		shift = Add(shift, bias)
	}
	if inPlace {
		return ChannelAffineInPlace(x, scale, shift)
	}
	return ChannelAffine(x, scale, shift)
}

// ChannelAffine computes y[n,c,...] = x[n,c,...]·scale[c] + shift[c]; either
// of scale and shift may be nil. It is frozen batch norm and conv bias.
func ChannelAffine(x, scale, shift *Tensor) *Tensor {
	return channelAffine(x, scale, shift, x.eng.newLike(x.shape))
}

// ChannelAffineInPlace is ChannelAffine written over x's buffer, so frozen
// batch norm after a convolution keeps one activation, not two (PyTorch
// frees the convolution's output, which no backward reads). x must not be
// used again, and x's producer must not read its own output in its
// backward (a convolution does not). Where the backward would read x (scale
// wants a gradient) or x does not own its buffer (a Reshape view, a leaf),
// it is ChannelAffine.
func ChannelAffineInPlace(x, scale, shift *Tensor) *Tensor {
	if wants(scale) || !x.inPlaceable() {
		return ChannelAffine(x, scale, shift)
	}
	return channelAffine(x, scale, shift, x.takeBuffer())
}

// channelAffine computes ChannelAffine into y, which may hold x's buffer.
func channelAffine(x, scale, shift, y *Tensor) *Tensor {
	e := x.eng
	e.checkEngine(scale, shift)
	n, c, hw := x.shape[0], x.shape[1], numel(x.shape[2:])
	var sb, hb Buffer
	if scale != nil {
		sb = scale.buf
	}
	if shift != nil {
		hb = shift.buf
	}
	xb := x.buf
	if y.buf == xb {
		xb = nil // overwritten; only dscale would read it, and scale wants none
	}
	e.dev.ChannelAffine(x.buf, n, c, hw, sb, hb, y.buf)
	record(y, []*Tensor{x, scale, shift}, func(dy Buffer) []Buffer {
		var dx, ds, dh Buffer
		if wants(x) {
			dx = e.get(x.Len())
		}
		if wants(scale) {
			ds = e.get(c)
		}
		if wants(shift) {
			dh = e.get(c)
		}
		e.dev.ChannelAffineBackward(xb, dy, n, c, hw, sb, dx, ds, dh)
		return []Buffer{dx, ds, dh}
	})
	return y
}
