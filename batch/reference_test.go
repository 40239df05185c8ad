package batch

import (
	"image"
	"image/color"
)

// The step-by-step transforms the loader's fused pass (resample.go) must
// equal bit for bit: the pipeline as it was written first, kept as the
// reference of TestPrepareEqualsStepByStep and of the PIL and torch
// comparisons (libjpeg_test.go, batch_test.go).

// referencePixels is Prepare's pixel path step by step: float planes,
// resize, flip, normalise.
func referencePixels(img image.Image, o Options, nw, nh int, flip bool) []float32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	planes := toPlanes(img, o.ToRGB, o.Libjpeg)
	if nw != w || nh != h {
		planes = resizeBilinear(planes, w, h, nw, nh)
	}
	if flip {
		flipPlanes(planes, nw, nh)
	}
	for c := range 3 {
		m, s := o.Mean[c], o.Std[c]
		p := planes[c*nw*nh : (c+1)*nw*nh]
		for i, v := range p {
			p[i] = (v - m) / s
		}
	}
	return planes
}

// toPlanes converts an image to float32 [3,H,W] in 0..255, RGB or BGR,
// YCbCr as libjpeg does when libjpeg is set.
func toPlanes(img image.Image, rgb, libjpeg bool) []float32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]float32, 3*w*h)
	r, g, bl := out[:w*h], out[w*h:2*w*h], out[2*w*h:]
	if !rgb {
		r, bl = bl, r
	}
	ycc, isYCC := img.(*image.YCbCr)
	if isYCC && libjpeg {
		if R, G, B, ok := libjpegRGB(ycc); ok {
			for i := range R {
				r[i], g[i], bl[i] = float32(R[i]), float32(G[i]), float32(B[i])
			}
			return out
		}
	}
	if isYCC {
		for y := range h {
			for x := range w {
				c := ycc.YCbCrAt(b.Min.X+x, b.Min.Y+y)
				R, G, B := yccToRGB(c.Y, c.Cb, c.Cr)
				i := y*w + x
				r[i], g[i], bl[i] = R, G, B
			}
		}
		return out
	}
	for y := range h {
		for x := range w {
			R, G, B, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := y*w + x
			r[i], g[i], bl[i] = float32(R>>8), float32(G>>8), float32(B>>8)
		}
	}
	return out
}

func yccToRGB(y, cb, cr uint8) (float32, float32, float32) {
	R, G, B := color.YCbCrToRGB(y, cb, cr)
	return float32(R), float32(G), float32(B)
}

// resizeBilinear resizes each plane with half-pixel centres, as OpenCV's
// INTER_LINEAR does (MMDetection resizes with cv2).
func resizeBilinear(src []float32, w, h, nw, nh int) []float32 {
	dst := make([]float32, 3*nw*nh)
	sx, sy := float64(w)/float64(nw), float64(h)/float64(nh)
	for c := range 3 {
		s, d := src[c*w*h:(c+1)*w*h], dst[c*nw*nh:(c+1)*nw*nh]
		for y := range nh {
			fy := (float64(y)+0.5)*sy - 0.5
			y0, ty := splitCoord(fy, h)
			y1 := min(y0+1, h-1)
			for x := range nw {
				fx := (float64(x)+0.5)*sx - 0.5
				x0, tx := splitCoord(fx, w)
				x1 := min(x0+1, w-1)
				top := float64(s[y0*w+x0])*(1-tx) + float64(s[y0*w+x1])*tx
				bot := float64(s[y1*w+x0])*(1-tx) + float64(s[y1*w+x1])*tx
				d[y*nw+x] = float32(top*(1-ty) + bot*ty)
			}
		}
	}
	return dst
}

func flipPlanes(p []float32, w, h int) {
	for row := 0; row < 3*h; row++ {
		r := p[row*w : (row+1)*w]
		for i, j := 0, w-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
	}
}
