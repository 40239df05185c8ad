package gpu

// CPU twins of gpu/kernels/avgpool.cu: tensor.CPU's average pooling loops
// (scatter form for the backward passes, as there).

func avgPoolFwdRef(y, x []float32, g PoolGeom) {
	oh, ow := g.OH(), g.OW()
	inv := 1 / float32(g.KH*g.KW)
	for p := range g.NC {
		plane := x[p*g.H*g.W : (p+1)*g.H*g.W]
		for oy := range oh {
			for ox := range ow {
				var s float32
				for ky := range g.KH {
					iy := oy*g.StrideH - g.PadH + ky
					for kx := range g.KW {
						ix := ox*g.StrideW - g.PadW + kx
						if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W {
							s += plane[iy*g.W+ix]
						}
					}
				}
				y[(p*oh+oy)*ow+ox] = s * inv
			}
		}
	}
}

func avgPoolBwdRef(dx, dy []float32, g PoolGeom) {
	oh, ow := g.OH(), g.OW()
	inv := 1 / float32(g.KH*g.KW)
	clear(dx)
	for p := range g.NC {
		plane := dx[p*g.H*g.W : (p+1)*g.H*g.W]
		for oy := range oh {
			for ox := range ow {
				v := dy[(p*oh+oy)*ow+ox] * inv
				for ky := range g.KH {
					iy := oy*g.StrideH - g.PadH + ky
					for kx := range g.KW {
						ix := ox*g.StrideW - g.PadW + kx
						if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W {
							plane[iy*g.W+ix] += v
						}
					}
				}
			}
		}
	}
}

// adaptiveRangeRef is PyTorch's window [floor(i*in/out), ceil((i+1)*in/out)).
func adaptiveRangeRef(i, in, out int) (int, int) {
	return i * in / out, ((i+1)*in + out - 1) / out
}

func adaptiveAvgPoolFwdRef(y, x []float32, nc, h, w, oh, ow int) {
	for p := range nc {
		plane := x[p*h*w : (p+1)*h*w]
		for oy := range oh {
			y0, y1 := adaptiveRangeRef(oy, h, oh)
			for ox := range ow {
				x0, x1 := adaptiveRangeRef(ox, w, ow)
				var s float64
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						s += float64(plane[iy*w+ix])
					}
				}
				y[(p*oh+oy)*ow+ox] = float32(s / float64((y1-y0)*(x1-x0)))
			}
		}
	}
}

func adaptiveAvgPoolBwdRef(dx, dy []float32, nc, h, w, oh, ow int) {
	clear(dx)
	for p := range nc {
		plane := dx[p*h*w : (p+1)*h*w]
		for oy := range oh {
			y0, y1 := adaptiveRangeRef(oy, h, oh)
			for ox := range ow {
				x0, x1 := adaptiveRangeRef(ox, w, ow)
				v := dy[(p*oh+oy)*ow+ox] / float32((y1-y0)*(x1-x0))
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						plane[iy*w+ix] += v
					}
				}
			}
		}
	}
}
