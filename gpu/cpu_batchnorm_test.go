package gpu

import (
	"math"
	"testing"
)

// CPU twin of gpu/kernels/batchnorm.cu.

// bnTrainFwdRef is batch norm's training forward in float64. It has no
// kernel (the GPU composes it from channel_mean_var_f32 and
// channel_affine_f32); the tests need it for the statistics
// bn_train_bwd_f32 reads and as the function bnTrainBwdRef differentiates.
func bnTrainFwdRef(y, saveMean, saveInvStd, runMean, runVar, x, gamma, beta []float32, n, c, hw int, eps, momentum float32) {
	m := n * hw
	for ch := 0; ch < c; ch++ {
		var s float64
		for i := 0; i < n; i++ {
			for _, v := range x[(i*c+ch)*hw : (i*c+ch+1)*hw] {
				s += float64(v)
			}
		}
		mean := s / float64(m)
		var sq float64
		for i := 0; i < n; i++ {
			for _, v := range x[(i*c+ch)*hw : (i*c+ch+1)*hw] {
				d := float64(v) - mean
				sq += d * d
			}
		}
		v := sq / float64(m)
		inv := 1 / math.Sqrt(v+float64(eps))
		for i := 0; i < n; i++ {
			for j := (i*c + ch) * hw; j < (i*c+ch+1)*hw; j++ {
				y[j] = float32((float64(x[j])-mean)*inv*float64(gamma[ch]) + float64(beta[ch]))
			}
		}
		saveMean[ch], saveInvStd[ch] = float32(mean), float32(inv)
		if runMean != nil {
			unbiased := v
			if m > 1 {
				unbiased = v * float64(m) / float64(m-1)
			}
			mo := float64(momentum)
			runMean[ch] = float32((1-mo)*float64(runMean[ch]) + mo*mean)
			runVar[ch] = float32((1-mo)*float64(runVar[ch]) + mo*unbiased)
		}
	}
}

func bnTrainBwdRef(dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd []float32, n, c, hw int) {
	m := float64(n * hw)
	for ch := 0; ch < c; ch++ {
		mean, inv := float64(saveMean[ch]), float64(saveInvStd[ch])
		var sdy, sdyx float64
		for i := 0; i < n; i++ {
			for j := (i*c + ch) * hw; j < (i*c+ch+1)*hw; j++ {
				sdy += float64(dy[j])
				sdyx += float64(dy[j]) * (float64(x[j]) - mean) * inv
			}
		}
		k := float64(gamma[ch]) * inv / m
		for i := 0; i < n; i++ {
			for j := (i*c + ch) * hw; j < (i*c+ch+1)*hw; j++ {
				xhat := (float64(x[j]) - mean) * inv
				dx[j] = float32(k * (m*float64(dy[j]) - sdy - xhat*sdyx))
			}
		}
		dgamma[ch], dbeta[ch] = float32(sdyx), float32(sdy)
	}
}

// channelMeanVarRef mirrors tensor.CPU.ChannelMeanVar (float64, two passes).
func channelMeanVarRef(mean, variance, x []float32, n, c, hw int) {
	for ch := 0; ch < c; ch++ {
		var s float64
		for i := 0; i < n; i++ {
			for _, v := range x[(i*c+ch)*hw : (i*c+ch+1)*hw] {
				s += float64(v)
			}
		}
		m := s / float64(n*hw)
		var q float64
		for i := 0; i < n; i++ {
			for _, v := range x[(i*c+ch)*hw : (i*c+ch+1)*hw] {
				q += (float64(v) - m) * (float64(v) - m)
			}
		}
		mean[ch], variance[ch] = float32(m), float32(q/float64(n*hw))
	}
}

func channelAffineRef(y, x, scale, shift []float32, n, c, hw int) {
	for i := range y[:n*c*hw] {
		ch := (i / hw) % c
		a, b := float32(1), float32(0)
		if scale != nil {
			a = scale[ch]
		}
		if shift != nil {
			b = shift[ch]
		}
		y[i] = x[i]*a + b
	}
}

func channelAffineBwdRef(dx, dscale, dshift, x, dy, scale []float32, n, c, hw int) {
	for ch := 0; ch < c; ch++ {
		a := float32(1)
		if scale != nil {
			a = scale[ch]
		}
		var sdy, sdyx float64
		for i := 0; i < n; i++ {
			for j := (i*c + ch) * hw; j < (i*c+ch+1)*hw; j++ {
				sdy += float64(dy[j])
				if dscale != nil {
					sdyx += float64(dy[j]) * float64(x[j])
				}
				if dx != nil {
					dx[j] = dy[j] * a
				}
			}
		}
		if dscale != nil {
			dscale[ch] = float32(sdyx)
		}
		if dshift != nil {
			dshift[ch] = float32(sdy)
		}
	}
}

func TestBatchNormReference(t *testing.T) {
	const n, c, hw = 2, 3, 10
	x := randn(10, n*c*hw)
	gamma, beta := []float32{1, 2, 0.5}, []float32{0, 1, -1}
	y := make([]float32, len(x))
	sm, si := make([]float32, c), make([]float32, c)
	fwd := func() {
		bnTrainFwdRef(y, sm, si, nil, nil, x, gamma, beta, n, c, hw, 1e-5, 0.1)
	}
	fwd()
	// Per channel, (y - beta)/gamma has mean 0 and variance ~1.
	for ch := 0; ch < c; ch++ {
		var s, sq float64
		for i := 0; i < n; i++ {
			for j := (i*c + ch) * hw; j < (i*c+ch+1)*hw; j++ {
				v := (float64(y[j]) - float64(beta[ch])) / float64(gamma[ch])
				s += v
				sq += v * v
			}
		}
		m := float64(n * hw)
		if math.Abs(s/m) > 1e-5 || math.Abs(sq/m-1) > 1e-3 {
			t.Errorf("channel %d: mean %v var %v", ch, s/m, sq/m)
		}
	}
	// Backward against finite differences of L = <y, r>.
	r := randn(11, len(x))
	f := func() float64 { fwd(); return dot(y, r) }
	f()
	dx, dg, db := make([]float32, len(x)), make([]float32, c), make([]float32, c)
	bnTrainBwdRef(dx, dg, db, r, x, gamma, sm, si, n, c, hw)
	for _, i := range []int{0, 7, 15, 33, 59} {
		if num := numGrad(f, x, i, 1e-2); math.Abs(num-float64(dx[i])) > 2e-2*math.Max(1, math.Abs(num)) {
			t.Errorf("dx[%d] = %v, finite difference %v", i, dx[i], num)
		}
	}
	for ch := 0; ch < c; ch++ {
		if num := numGrad(f, gamma, ch, 1e-2); math.Abs(num-float64(dg[ch])) > 1e-2*math.Max(1, math.Abs(num)) {
			t.Errorf("dgamma[%d] = %v, finite difference %v", ch, dg[ch], num)
		}
		if num := numGrad(f, beta, ch, 1e-2); math.Abs(num-float64(db[ch])) > 1e-2*math.Max(1, math.Abs(num)) {
			t.Errorf("dbeta[%d] = %v, finite difference %v", ch, db[ch], num)
		}
	}
}

func TestChannelAffineAdjoint(t *testing.T) {
	const n, c, hw = 2, 3, 5
	x, dy, scale, shift := randn(25, n*c*hw), randn(26, n*c*hw), randn(27, c), randn(28, c)
	y := make([]float32, len(x))
	channelAffineRef(y, x, scale, shift, n, c, hw)
	dx, ds, dsh := make([]float32, len(x)), make([]float32, c), make([]float32, c)
	channelAffineBwdRef(dx, ds, dsh, x, dy, scale, n, c, hw)
	f := func() float64 { channelAffineRef(y, x, scale, shift, n, c, hw); return dot(y, dy) }
	for i := range x {
		if num := numGrad(f, x, i, 1e-2); math.Abs(num-float64(dx[i])) > 1e-3 {
			t.Errorf("dx[%d] = %v, finite difference %v", i, dx[i], num)
		}
	}
	for ch := 0; ch < c; ch++ {
		if num := numGrad(f, scale, ch, 1e-2); math.Abs(num-float64(ds[ch])) > 1e-3 {
			t.Errorf("dscale[%d] = %v, finite difference %v", ch, ds[ch], num)
		}
		if num := numGrad(f, shift, ch, 1e-2); math.Abs(num-float64(dsh[ch])) > 1e-3 {
			t.Errorf("dshift[%d] = %v, finite difference %v", ch, dsh[ch], num)
		}
	}
	mean, variance := make([]float32, c), make([]float32, c)
	channelMeanVarRef(mean, variance, y, n, c, hw)
	sm, si := make([]float32, c), make([]float32, c)
	bnTrainFwdRef(make([]float32, len(y)), sm, si, nil, nil, y, scale, shift, n, c, hw, 0, 0)
	for ch := 0; ch < c; ch++ {
		if math.Abs(float64(mean[ch]-sm[ch])) > 1e-5 || math.Abs(1/math.Sqrt(float64(variance[ch]))-float64(si[ch])) > 1e-3*float64(si[ch]) {
			t.Errorf("channel %d: mean/var %v %v disagree with batch norm's %v, 1/%v", ch, mean[ch], variance[ch], sm[ch], si[ch])
		}
	}
}
