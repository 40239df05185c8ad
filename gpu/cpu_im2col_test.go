package gpu

import "math"

// CPU twins of gpu/kernels/im2col.cu, batchnorm.cu, maxpool.cu and
// softmax_ce.cu.

func im2colRef(col, im []float32, g ConvGeom) {
	oh, ow := g.OH(), g.OW()
	i := 0
	for c := 0; c < g.C; c++ {
		for kh := 0; kh < g.KH; kh++ {
			for kw := 0; kw < g.KW; kw++ {
				for y := 0; y < oh; y++ {
					for x := 0; x < ow; x++ {
						h := y*g.StrideH - g.PadH + kh*g.DilH
						w := x*g.StrideW - g.PadW + kw*g.DilW
						var v float32
						if h >= 0 && h < g.H && w >= 0 && w < g.W {
							v = im[(c*g.H+h)*g.W+w]
						}
						col[i] = v
						i++
					}
				}
			}
		}
	}
}

// col2imRef overwrites im with the sum of the column entries reading each
// pixel, scattering in the same (kh, kw) order as the kernel gathers.
func col2imRef(im, col []float32, g ConvGeom) {
	oh, ow := g.OH(), g.OW()
	clear(im[:g.C*g.H*g.W])
	for c := 0; c < g.C; c++ {
		for kh := 0; kh < g.KH; kh++ {
			for kw := 0; kw < g.KW; kw++ {
				row := (c*g.KH+kh)*g.KW + kw
				for y := 0; y < oh; y++ {
					for x := 0; x < ow; x++ {
						h := y*g.StrideH - g.PadH + kh*g.DilH
						w := x*g.StrideW - g.PadW + kw*g.DilW
						if h >= 0 && h < g.H && w >= 0 && w < g.W {
							im[(c*g.H+h)*g.W+w] += col[(row*oh+y)*ow+x]
						}
					}
				}
			}
		}
	}
}

// bnTrainFwdRef mirrors bn_train_fwd_f32 in float64.
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

func bnInferRef(y, x, gamma, beta, mean, variance []float32, n, c, hw int, eps float32) {
	for i := 0; i < n*c*hw; i++ {
		ch := (i / hw) % c
		inv := 1 / math.Sqrt(float64(variance[ch])+float64(eps))
		y[i] = float32((float64(x[i])-float64(mean[ch]))*inv*float64(gamma[ch]) + float64(beta[ch]))
	}
}

func maxPoolFwdRef(y []float32, argmax []int32, x []float32, g PoolGeom) {
	oh, ow := g.OH(), g.OW()
	for p := 0; p < g.NC; p++ {
		plane := x[p*g.H*g.W:]
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				best, bi := float32(math.Inf(-1)), int32(-1)
				for kh := 0; kh < g.KH; kh++ {
					h := i*g.StrideH - g.PadH + kh
					if h < 0 || h >= g.H {
						continue
					}
					for kw := 0; kw < g.KW; kw++ {
						w := j*g.StrideW - g.PadW + kw
						if w < 0 || w >= g.W {
							continue
						}
						v := plane[h*g.W+w]
						if bi < 0 || v > best || (v != v && best == best) {
							best, bi = v, int32(h*g.W+w)
						}
					}
				}
				y[(p*oh+i)*ow+j], argmax[(p*oh+i)*ow+j] = best, bi
			}
		}
	}
}

// maxPoolBwdRef scatters each output gradient to its argmax.
func maxPoolBwdRef(dx, dy []float32, argmax []int32, g PoolGeom) {
	oh, ow := g.OH(), g.OW()
	clear(dx[:g.NC*g.H*g.W])
	for p := 0; p < g.NC; p++ {
		for o := 0; o < oh*ow; o++ {
			if a := argmax[p*oh*ow+o]; a >= 0 {
				dx[p*g.H*g.W+int(a)] += dy[p*oh*ow+o]
			}
		}
	}
}

// softmaxCEFwdRef mirrors softmax_ce_fwd_f32 in float64; weight may be nil.
func softmaxCEFwdRef(loss, prob, logits []float32, labels []int32, weight []float32, n, k, ignore int) {
	for i := 0; i < n; i++ {
		l := logits[i*k : (i+1)*k]
		m := float64(l[0])
		for _, v := range l[1:] {
			m = math.Max(m, float64(v))
		}
		var s float64
		for _, v := range l {
			s += math.Exp(float64(v) - m)
		}
		for j, v := range l {
			prob[i*k+j] = float32(math.Exp(float64(v)-m) / s)
		}
		lbl := int(labels[i])
		switch {
		case lbl == ignore:
			loss[i] = 0
		case lbl < 0 || lbl >= k:
			loss[i] = float32(math.NaN())
		default:
			v := m + math.Log(s) - float64(l[lbl])
			if weight != nil {
				v *= float64(weight[i])
			}
			loss[i] = float32(v)
		}
	}
}

func softmaxCEBwdRef(dlogits, prob []float32, labels []int32, weight []float32, n, k, ignore int, scale float32) {
	for i := 0; i < n; i++ {
		lbl := int(labels[i])
		w := float32(1)
		if weight != nil {
			w = weight[i]
		}
		for j := 0; j < k; j++ {
			var g float32
			if lbl != ignore {
				one := float32(0)
				if j == lbl {
					one = 1
				}
				g = scale * w * (prob[i*k+j] - one)
			}
			dlogits[i*k+j] = g
		}
	}
}
