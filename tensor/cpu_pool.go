package tensor

import "math"

// MaxPool2d implements Device. A (positive) NaN wins, as in PyTorch.
func (d *CPU) MaxPool2d(x Buffer, g PoolGeom, y Buffer, argmax IndexBuffer) {
	xs, ys, am := f(x), f(y), CPUIndexData(argmax)
	oh, ow := g.OutH(), g.OutW()
	checkLen("max pool input", g.N*g.C*g.H*g.W, len(xs))
	checkLen("max pool output", g.N*g.C*oh*ow, len(ys))
	d.parallel(g.N*g.C, max(1, elemGrain/max(oh*ow*g.KH*g.KW, 1)), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			plane := xs[p*g.H*g.W : (p+1)*g.H*g.W]
			yp, ap := ys[p*oh*ow:(p+1)*oh*ow], am[p*oh*ow:(p+1)*oh*ow]
			for oy := 0; oy < oh; oy++ {
				// Clamp the window to the image once per row and column
				// so the inner loops carry no bounds tests.
				y0 := oy*g.StrideH - g.PadH
				ky0, ky1 := max(0, -y0), min(g.KH, g.H-y0)
				for ox := 0; ox < ow; ox++ {
					x0 := ox*g.StrideW - g.PadW
					kx0, kx1 := max(0, -x0), min(g.KW, g.W-x0)
					// The largest (value, position) key, by branch-free
					// maxima: the comparisons of a plain argmax mispredict on
					// real activations. Ties keep the first position.
					top := noPoolKey
					if ky1-ky0 == 3 && kx1-kx0 == 3 {
						// ResNet's whole 3x3 windows: keys are distinct, so
						// their maximum does not depend on the order, and
						// three rows unrolled by hand as a tree (a helper per
						// row is too big to inline) ran 1.4x faster than one
						// chain of nine.
						r0 := (y0+ky0)*g.W + x0 + kx0
						r1, r2 := r0+g.W, r0+2*g.W
						a, b, c := plane[r0:r0+3:r0+3], plane[r1:r1+3:r1+3], plane[r2:r2+3:r2+3]
						ka := maxKey(maxKey(poolKey(a[0], r0), poolKey(a[1], r0+1)), poolKey(a[2], r0+2))
						kb := maxKey(maxKey(poolKey(b[0], r1), poolKey(b[1], r1+1)), poolKey(b[2], r1+2))
						kc := maxKey(maxKey(poolKey(c[0], r2), poolKey(c[1], r2+1)), poolKey(c[2], r2+2))
						top = maxKey(maxKey(ka, kb), kc)
					} else {
						for ky := ky0; ky < ky1; ky++ {
							r := (y0+ky)*g.W + x0
							for kx := kx0; kx < kx1; kx++ {
								top = maxKey(top, poolKey(plane[r+kx], r+kx))
							}
						}
					}
					bi := int32(poolPosMask - top&poolPosMask)
					best := plane[bi]
					yp[oy*ow+ox], ap[oy*ow+ox] = best, bi
				}
			}
		}
	})
}

// maxKey is max(a, b) for pool keys without a branch (Go's max compiles
// to one here); keys stay within ±2^61, so a−b cannot overflow.
func maxKey(a, b int64) int64 {
	d := b - a
	return a + d&^(d>>63)
}

// noPoolKey is below every poolKey.
const noPoolKey = int64(math.MinInt32)<<30 - 1

// poolPosMask keeps the position half of a pool key: planes up to 2^30
// elements.
const poolPosMask = 1<<30 - 1

// poolKey orders (value, position) pairs as one int64: the float's bits made
// sortable as a signed integer in the high part (a positive NaN sorts above
// +Inf), and the position reversed in the low 30 bits so an earlier position
// wins a tie.
func poolKey(v float32, i int) int64 {
	b := int32(math.Float32bits(v))
	b ^= (b >> 31) & 0x7fffffff
	return int64(b)<<30 | int64(poolPosMask-i)
}

// MaxPool2dBackward implements Device; planes are independent.
func (d *CPU) MaxPool2dBackward(dy Buffer, argmax IndexBuffer, g PoolGeom, dx Buffer) {
	gs, dxs, am := f(dy), f(dx), CPUIndexData(argmax)
	oh, ow := g.OutH(), g.OutW()
	hw := g.H * g.W
	d.parallel(g.N*g.C, max(1, elemGrain/max(hw, 1)), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			plane := dxs[p*hw : (p+1)*hw]
			clear(plane)
			for o := p * oh * ow; o < (p+1)*oh*ow; o++ {
				if am[o] >= 0 {
					plane[am[o]] += gs[o]
				}
			}
		}
	})
}

// AvgPool2d implements Device.
func (d *CPU) AvgPool2d(x Buffer, g PoolGeom, y Buffer) {
	xs, ys := f(x), f(y)
	oh, ow := g.OutH(), g.OutW()
	inv := 1 / float32(g.KH*g.KW)
	d.parallel(g.N*g.C, 1, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			plane := xs[p*g.H*g.W : (p+1)*g.H*g.W]
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					var s float32
					forWindow(g, oy, ox, func(i int) { s += plane[i] })
					ys[(p*oh+oy)*ow+ox] = s * inv
				}
			}
		}
	})
}

// AvgPool2dBackward implements Device.
func (d *CPU) AvgPool2dBackward(dy Buffer, g PoolGeom, dx Buffer) {
	gs, dxs := f(dy), f(dx)
	oh, ow := g.OutH(), g.OutW()
	inv := 1 / float32(g.KH*g.KW)
	d.parallel(g.N*g.C, 1, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			plane := dxs[p*g.H*g.W : (p+1)*g.H*g.W]
			clear(plane)
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					v := gs[(p*oh+oy)*ow+ox] * inv
					forWindow(g, oy, ox, func(i int) { plane[i] += v })
				}
			}
		}
	})
}

// forWindow calls fn with the in-image flat indices of output (oy, ox)'s window.
func forWindow(g PoolGeom, oy, ox int, fn func(i int)) {
	for ky := 0; ky < g.KH; ky++ {
		iy := oy*g.StrideH - g.PadH + ky
		if iy < 0 || iy >= g.H {
			continue
		}
		for kx := 0; kx < g.KW; kx++ {
			ix := ox*g.StrideW - g.PadW + kx
			if ix >= 0 && ix < g.W {
				fn(iy*g.W + ix)
			}
		}
	}
}

// adaptiveRange is PyTorch's adaptive pooling window [floor(i·in/out), ceil((i+1)·in/out)).
func adaptiveRange(i, in, out int) (int, int) {
	return i * in / out, ((i+1)*in + out - 1) / out
}

// AdaptiveAvgPool2d implements Device.
func (d *CPU) AdaptiveAvgPool2d(x Buffer, nc, h, w, oh, ow int, y Buffer) {
	xs, ys := f(x), f(y)
	checkLen("adaptive avg pool input", nc*h*w, len(xs))
	checkLen("adaptive avg pool output", nc*oh*ow, len(ys))
	d.parallel(nc, 1, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			plane := xs[p*h*w : (p+1)*h*w]
			for oy := 0; oy < oh; oy++ {
				y0, y1 := adaptiveRange(oy, h, oh)
				for ox := 0; ox < ow; ox++ {
					x0, x1 := adaptiveRange(ox, w, ow)
					var s float64
					for iy := y0; iy < y1; iy++ {
						for _, v := range plane[iy*w+x0 : iy*w+x1] {
							s += float64(v)
						}
					}
					ys[(p*oh+oy)*ow+ox] = float32(s / float64((y1-y0)*(x1-x0)))
				}
			}
		}
	})
}

// AdaptiveAvgPool2dBackward implements Device.
func (d *CPU) AdaptiveAvgPool2dBackward(dy Buffer, nc, h, w, oh, ow int, dx Buffer) {
	gs, dxs := f(dy), f(dx)
	d.parallel(nc, 1, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			plane := dxs[p*h*w : (p+1)*h*w]
			clear(plane)
			for oy := 0; oy < oh; oy++ {
				y0, y1 := adaptiveRange(oy, h, oh)
				for ox := 0; ox < ow; ox++ {
					x0, x1 := adaptiveRange(ox, w, ow)
					v := gs[(p*oh+oy)*ow+ox] / float32((y1-y0)*(x1-x0))
					for iy := y0; iy < y1; iy++ {
						row := plane[iy*w+x0 : iy*w+x1]
						for i := range row {
							row[i] += v
						}
					}
				}
			}
		}
	})
}

// UpsampleNearest implements Device.
func (d *CPU) UpsampleNearest(x Buffer, nc, h, w, scale int, y Buffer) {
	xs, ys := f(x), f(y)
	W := w * scale
	checkLen("upsample output", nc*h*scale*W, len(ys))
	d.parallel(nc*h, max(1, elemGrain/max(W*scale, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			src := xs[r*w : (r+1)*w]
			first := ys[r*scale*W : (r*scale+1)*W]
			for i, v := range src {
				for s := 0; s < scale; s++ {
					first[i*scale+s] = v
				}
			}
			for s := 1; s < scale; s++ {
				copy(ys[(r*scale+s)*W:(r*scale+s+1)*W], first)
			}
		}
	})
}

// UpsampleNearestBackward implements Device.
func (d *CPU) UpsampleNearestBackward(dy Buffer, nc, h, w, scale int, dx Buffer) {
	gs, dxs := f(dy), f(dx)
	W := w * scale
	checkLen("upsample backward", nc*h*w, len(dxs))
	d.parallel(nc*h, max(1, elemGrain/max(W*scale, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			dst := dxs[r*w : (r+1)*w]
			clear(dst)
			for s := 0; s < scale; s++ {
				src := gs[(r*scale+s)*W : (r*scale+s+1)*W]
				for i := range dst {
					for t := 0; t < scale; t++ {
						dst[i] += src[i*scale+t]
					}
				}
			}
		}
	})
}
