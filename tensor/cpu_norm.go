package tensor

// ChannelMeanVar implements Device in one pass over x: Σx and Σx² in
// float64, whose 53-bit mantissa keeps E[x²] − E[x]² accurate for
// activations (a second pass over memory would cost more than the rounding
// it saves).
func (d *CPU) ChannelMeanVar(x Buffer, n, c, hw int, mean, variance Buffer) {
	xs, ms, vs := f(x), f(mean), f(variance)
	checkLen("channel mean/var", n*c*hw, len(xs))
	d.parallel(c, 1, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var s, q float64
			for i := 0; i < n; i++ {
				ps, pq := sum2(xs[(i*c+ch)*hw : (i*c+ch+1)*hw])
				s, q = s+ps, q+pq
			}
			cnt := float64(n * hw)
			m := s / cnt
			ms[ch] = float32(m)
			vs[ch] = float32(max(q/cnt-m*m, 0))
		}
	})
}

// ChannelAffine implements Device.
func (d *CPU) ChannelAffine(x Buffer, n, c, hw int, scale, shift Buffer, y Buffer) {
	xs, ys, sc, sh := f(x), f(y), f(scale), f(shift)
	checkLen("channel affine", n*c*hw, len(xs))
	checkLen("channel affine", n*c*hw, len(ys))
	d.parallel(n*c, max(1, elemGrain/max(hw, 1)), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			ch := p % c
			a, b := float32(1), float32(0)
			if sc != nil {
				a = sc[ch]
			}
			if sh != nil {
				b = sh[ch]
			}
			xr, yr := xs[p*hw:(p+1)*hw], ys[p*hw:(p+1)*hw]
			for i := affineVec(yr, xr, a, b); i < len(xr); i++ {
				yr[i] = float32(xr[i]*a) + b
			}
		}
	})
}

// ChannelAffineBackward implements Device.
func (d *CPU) ChannelAffineBackward(x, dy Buffer, n, c, hw int, scale Buffer, dx, dscale, dshift Buffer) {
	xs, gs, sc, dxs, dsc, dsh := f(x), f(dy), f(scale), f(dx), f(dscale), f(dshift)
	d.parallel(c, 1, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			a := float32(1)
			if sc != nil {
				a = sc[ch]
			}
			var sg, sgx float64
			for i := 0; i < n; i++ {
				off := (i*c + ch) * hw
				gr := gs[off : off+hw]
				if dxs != nil {
					xr := dxs[off : off+hw]
					for j, g := range gr {
						xr[j] = g * a
					}
				}
				switch {
				case dsc != nil:
					a, b := dotSum(gr, xs[off:off+hw])
					sg, sgx = sg+a, sgx+b
				case dsh != nil:
					sg += sum1(gr)
				}
			}
			if dsh != nil {
				dsh[ch] = float32(sg)
			}
			if dsc != nil {
				dsc[ch] = float32(sgx)
			}
		}
	})
}

// BatchNormBackward implements Device.
func (d *CPU) BatchNormBackward(x, dy Buffer, n, c, hw int, mean, invstd, weight Buffer, dx, dweight, dbias Buffer) {
	xs, gs, ms, is, ws, dxs, dws, dbs := f(x), f(dy), f(mean), f(invstd), f(weight), f(dx), f(dweight), f(dbias)
	d.parallel(c, 1, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			m, inv := ms[ch], is[ch]
			// Σ dy and Σ dy·x̂, with Σ dy·x̂ = invstd·(Σ dy·x − mean·Σ dy).
			var sg, sgRaw float64
			for i := 0; i < n; i++ {
				off := (i*c + ch) * hw
				a, b := dotSum(gs[off:off+hw], xs[off:off+hw])
				sg, sgRaw = sg+a, sgRaw+b
			}
			sgx := float64(inv) * (sgRaw - float64(m)*sg)
			if dws != nil {
				dws[ch] = float32(sgx)
			}
			if dbs != nil {
				dbs[ch] = float32(sg)
			}
			if dxs == nil {
				continue
			}
			w := float32(1)
			if ws != nil {
				w = ws[ch]
			}
			cnt := float64(n * hw)
			meanG, meanGX := float32(sg/cnt), float32(sgx/cnt)
			k := w * inv
			p := [5]float32{m, inv, meanG, meanGX, k}
			for i := 0; i < n; i++ {
				off := (i*c + ch) * hw
				xr, gr, dr := xs[off:off+hw], gs[off:off+hw], dxs[off:off+hw]
				for j := bnGradVec(dr, xr, gr, &p); j < len(gr); j++ {
					xh := (xr[j] - m) * inv
					dr[j] = k * (gr[j] - meanG - xh*meanGX)
				}
			}
		}
	})
}
