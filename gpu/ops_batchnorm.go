package gpu

// Typed launchers for gpu/kernels/batchnorm.cu. The forward pass is
// composed from ChannelMeanVar and ChannelAffine (tensor.Device's pieces),
// so only the backward has a fused kernel.

// bnThreads matches BN_THREADS in batchnorm.cu.
const bnThreads = 256

// BatchNormTrainBwd overwrites dx, dgamma and dbeta.
func (d *Device) BatchNormTrainBwd(dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd DevPtr, n, c, hw int) error {
	return d.launchPerChannel(kBNTrainBwd, n, c, hw, dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd)
}

// ChannelMeanVar writes the per-channel mean and biased variance of x
// [N,C,HW].
func (d *Device) ChannelMeanVar(mean, variance, x DevPtr, n, c, hw int) error {
	return d.launchPerChannel(kChannelMeanVar, n, c, hw, mean, variance, x)
}

// ChannelAffine computes y = x·scale[c] + shift[c] (scale, shift may be 0).
func (d *Device) ChannelAffine(y, x, scale, shift DevPtr, n, c, hw int) error {
	return d.launch1D(kChannelAffine, n*c*hw, y, x, scale, shift, i32(n), i32(c), i32(hw))
}

// ChannelAffineBwd computes dx = dy·scale[c], dscale[c] = Σ dy·x and
// dshift[c] = Σ dy; any output may be 0.
func (d *Device) ChannelAffineBwd(dx, dscale, dshift, x, dy, scale DevPtr, n, c, hw int) error {
	return d.launchPerChannel(kChannelAffineBwd, n, c, hw, dx, dscale, dshift, x, dy, scale)
}

// launchPerChannel queues a kernel with one bnThreads block per channel,
// the pointers first and then N, C, HW.
func (d *Device) launchPerChannel(kernel string, n, c, hw int, ptrs ...any) error {
	if c == 0 || n*hw == 0 {
		return nil
	}
	args := append(ptrs, i32(n), i32(c), i32(hw))
	return d.do(func() error {
		return d.launch(kernel, dim3{uint32(c), 1, 1}, dim3{bnThreads, 1, 1}, 0, args...)
	})
}
