package detection

import (
	"fmt"
	"math"
	"runtime"

	"github.com/detflow/detflow/internal/team"
)

// FeatureMap is a float32 NCHW feature map (B images in the N position).
type FeatureMap struct {
	Data       []float32
	N, C, H, W int
}

// Check reports a data length that does not match the shape.
func (f FeatureMap) Check() error {
	if f.N < 0 || f.C < 0 || f.H < 0 || f.W < 0 || len(f.Data) != f.N*f.C*f.H*f.W {
		return fmt.Errorf("feature map %dx%dx%dx%d has %d values", f.N, f.C, f.H, f.W, len(f.Data))
	}
	return nil
}

// RoIAlignConfig configures RoIAlign (torchvision.ops.roi_align).
type RoIAlignConfig struct {
	// OutH, OutW: the pooled size, 7x7 in the box heads.
	OutH, OutW int
	// SpatialScale maps image coordinates to the feature map: 1/stride.
	SpatialScale float64
	// SamplingRatio is the number of sampling points per bin side; 0 means
	// adaptive, ceil(roi size / pooled size) (MMDetection v2+); v0/v1 used 2.
	SamplingRatio int
	// Aligned shifts box coordinates by -0.5 so that pixel centres sit at
	// half-integers (torchvision aligned=True, MMDetection v2+); false is the
	// original RoIAlign of MMDetection v0/v1 and Detectron, which also forces
	// RoIs to be at least 1x1.
	Aligned bool
	// Workers bounds the goroutines (0 = GOMAXPROCS).
	Workers int
}

// bilinearTap is one sampling point: the four neighbouring pixels (offsets in
// an H x W plane) and their weights. Out-of-range samples have zero weights.
type bilinearTap struct {
	pos [4]int32
	w   [4]float32
}

// roiGeometry is everything about one RoI that does not depend on the channel.
type roiGeometry struct {
	batch int
	taps  []bilinearTap // OutH*OutW bins, gridH*gridW taps each
	grid  int           // taps per bin
	count float32       // divisor of the average (max(grid, 1))
}

// roiBins computes, with torchvision's float32 arithmetic, where the sampling
// points of a RoI (batch index, x1, y1, x2, y2) lie on an H x W map.
func roiBins(roi []float32, cfg RoIAlignConfig, h, w int) (startY, startX, binH, binW float32, gridH, gridW int) {
	off := 0.0
	if cfg.Aligned {
		off = 0.5
	}
	startX = float32(float64(roi[1])*cfg.SpatialScale - off)
	startY = float32(float64(roi[2])*cfg.SpatialScale - off)
	endX := float32(float64(roi[3])*cfg.SpatialScale - off)
	endY := float32(float64(roi[4])*cfg.SpatialScale - off)
	roiW, roiH := endX-startX, endY-startY
	if !cfg.Aligned {
		roiW, roiH = max(roiW, 1), max(roiH, 1)
	}
	binH, binW = roiH/float32(cfg.OutH), roiW/float32(cfg.OutW)
	gridH, gridW = cfg.SamplingRatio, cfg.SamplingRatio
	if cfg.SamplingRatio <= 0 {
		gridH = int(math.Ceil(float64(roiH / float32(cfg.OutH))))
		gridW = int(math.Ceil(float64(roiW / float32(cfg.OutW))))
	}
	return startY, startX, binH, binW, gridH, gridW
}

// sampleCoord is the iy-th sampling coordinate of bin p, in torchvision's
// evaluation order.
func sampleCoord(start, bin float32, p, i, grid int) float32 {
	return start + float32(p)*bin + float32(float32(i)+0.5)*bin/float32(grid)
}

// bilinearAt returns the tap of point (y, x) with torchvision's border rules:
// points more than one pixel outside the map contribute nothing, points within
// one pixel are clamped onto the border.
func bilinearAt(y, x float32, h, w int) (tap bilinearTap, ok bool) {
	if y < -1 || y > float32(h) || x < -1 || x > float32(w) {
		return bilinearTap{}, false
	}
	y, x = max(y, 0), max(x, 0)
	yLow, xLow := int(y), int(x)
	var yHigh, xHigh int
	if yLow >= h-1 {
		yLow, yHigh = h-1, h-1
		y = float32(yLow)
	} else {
		yHigh = yLow + 1
	}
	if xLow >= w-1 {
		xLow, xHigh = w-1, w-1
		x = float32(xLow)
	} else {
		xHigh = xLow + 1
	}
	ly, lx := y-float32(yLow), x-float32(xLow)
	hy, hx := 1-ly, 1-lx
	tap.w = [4]float32{hy * hx, hy * lx, ly * hx, ly * lx}
	tap.pos = [4]int32{int32(yLow*w + xLow), int32(yLow*w + xHigh), int32(yHigh*w + xLow), int32(yHigh*w + xHigh)}
	return tap, true
}

func newRoIGeometry(roi []float32, cfg RoIAlignConfig, h, w int) roiGeometry {
	startY, startX, binH, binW, gridH, gridW := roiBins(roi, cfg, h, w)
	// An inverted RoI under adaptive sampling with aligned gets a negative
	// grid; torchvision 0.14 then fails to allocate its table (std::vector
	// max_size). We sample nothing and output 0.
	gridH, gridW = max(gridH, 0), max(gridW, 0)
	g := roiGeometry{batch: int(roi[0]), grid: gridH * gridW, count: float32(max(gridH*gridW, 1))}
	g.taps = make([]bilinearTap, 0, cfg.OutH*cfg.OutW*g.grid)
	for ph := 0; ph < cfg.OutH; ph++ {
		for pw := 0; pw < cfg.OutW; pw++ {
			for iy := 0; iy < gridH; iy++ {
				y := sampleCoord(startY, binH, ph, iy, gridH)
				for ix := 0; ix < gridW; ix++ {
					x := sampleCoord(startX, binW, pw, ix, gridW)
					tap, _ := bilinearAt(y, x, h, w)
					g.taps = append(g.taps, tap)
				}
			}
		}
	}
	return g
}

func checkRoIAlign(feat FeatureMap, rois []float32, cfg RoIAlignConfig) error {
	if err := feat.Check(); err != nil {
		return err
	}
	return checkRoIs(feat.N, rois, cfg)
}

// checkRoIs checks the configuration and the rois (R x 5) against a map of n
// images.
func checkRoIs(n int, rois []float32, cfg RoIAlignConfig) error {
	if len(rois)%5 != 0 {
		return fmt.Errorf("rois have %d values, not a multiple of 5", len(rois))
	}
	if cfg.OutH <= 0 || cfg.OutW <= 0 || cfg.SpatialScale <= 0 {
		return fmt.Errorf("output size %dx%d and spatial scale %g must be positive", cfg.OutH, cfg.OutW, cfg.SpatialScale)
	}
	for r := 0; r < len(rois)/5; r++ {
		if b := int(rois[5*r]); b < 0 || b >= n {
			return fmt.Errorf("roi %d: batch index %g outside [0, %d)", r, rois[5*r], n)
		}
		for _, v := range rois[5*r+1 : 5*r+5] {
			// Adaptive sampling of an infinite RoI would take infinite taps.
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("roi %d: coordinate %g is not finite", r, v)
			}
		}
	}
	return nil
}

// tapBudget bounds the sampling taps precomputed at once (32 bytes each, so
// 4 MiB): RoIs are processed in chunks of about this many taps, which keeps the
// taps in cache while every channel reuses them and bounds memory when adaptive
// sampling meets large RoIs.
const tapBudget = 1 << 17

// roiChunks splits rois [0, r) into consecutive chunks of at most tapBudget
// taps (a single RoI above the budget is a chunk of its own).
func roiChunks(rois []float32, cfg RoIAlignConfig, h, w int) [][2]int {
	var chunks [][2]int
	start, taps := 0, 0
	for i := 0; i < len(rois)/5; i++ {
		_, _, _, _, gh, gw := roiBins(rois[5*i:5*i+5], cfg, h, w)
		n := max(gh, 0) * max(gw, 0) * cfg.OutH * cfg.OutW
		if i > start && taps+n > tapBudget {
			chunks = append(chunks, [2]int{start, i})
			start, taps = i, 0
		}
		taps += n
	}
	if r := len(rois) / 5; r > start {
		chunks = append(chunks, [2]int{start, r})
	}
	return chunks
}

// chunkGeometry computes the taps of rois [lo, hi) in parallel.
func chunkGeometry(rois []float32, lo, hi int, cfg RoIAlignConfig, h, w int) []roiGeometry {
	geo := make([]roiGeometry, hi-lo)
	parallelFor(hi-lo, cfg.Workers, func(i int) {
		geo[i] = newRoIGeometry(rois[5*(lo+i):5*(lo+i)+5], cfg, h, w)
	})
	return geo
}

// RoIAlign pools each of the R rois (R x 5: batch index, x1, y1, x2, y2 in
// image pixels) from feat into a C x OutH x OutW grid; the result is
// R x C x OutH x OutW. It reproduces torchvision's CPU roi_align (float32,
// same sampling points, same border rules, same summation order).
//
// Work is split over channels, not RoIs: with NCHW maps a RoI-major loop
// visits all C planes per RoI and misses the cache on every one of them at
// the fine FPN levels (a stride-4 level of a 1333x800 image is 69 MB), while a
// channel-major loop keeps one plane (270 KB) in cache for a whole chunk of
// RoIs. The sampling taps are computed once per RoI, in parallel over RoIs.
func RoIAlign(feat FeatureMap, rois []float32, cfg RoIAlignConfig) ([]float32, error) {
	out := make([]float32, len(rois)/5*feat.C*cfg.OutH*cfg.OutW)
	if err := RoIAlignInto(out, feat, rois, cfg); err != nil {
		return nil, err
	}
	return out, nil
}

// RoIAlignInto is RoIAlign writing into out (R x C x OutH x OutW values),
// for callers that pool into memory they own (a training step would
// otherwise make tens of MB of garbage).
func RoIAlignInto(out []float32, feat FeatureMap, rois []float32, cfg RoIAlignConfig) error {
	if err := checkRoIAlign(feat, rois, cfg); err != nil {
		return fmt.Errorf("roi align: %w", err)
	}
	bins := cfg.OutH * cfg.OutW
	c := feat.C
	if len(out) != len(rois)/5*c*bins {
		return fmt.Errorf("roi align: output has %d values, want %d", len(out), len(rois)/5*c*bins)
	}
	hw := feat.H * feat.W
	for _, ch := range roiChunks(rois, cfg, feat.H, feat.W) {
		geo := chunkGeometry(rois, ch[0], ch[1], cfg, feat.H, feat.W)
		parallelFor(c, cfg.Workers, func(k int) {
			for j := range geo {
				g := &geo[j]
				i := ch[0] + j
				plane := feat.Data[(g.batch*c+k)*hw : (g.batch*c+k+1)*hw]
				poolPlane(plane, g, out[(i*c+k)*bins:(i*c+k+1)*bins])
			}
		})
	}
	return nil
}

// poolPlane averages the taps of every bin of one RoI on one channel plane.
func poolPlane(plane []float32, g *roiGeometry, out []float32) {
	taps := g.taps
	for b := range out {
		var acc float32
		for k := b * g.grid; k < (b+1)*g.grid; k++ {
			t := &taps[k]
			acc += t.w[0]*plane[t.pos[0]] + t.w[1]*plane[t.pos[1]] + t.w[2]*plane[t.pos[2]] + t.w[3]*plane[t.pos[3]]
		}
		out[b] = acc / g.count
	}
}

// RoIAlignBackward returns the gradient of the loss with respect to the feature
// map (N x C x H x W, the shape of feat) given gradOut (R x C x OutH x OutW),
// the gradient with respect to RoIAlign's output. feat supplies only the shape.
// Every sample scatters grad*w/count to its four pixels, as torchvision's
// backward does. The work is split over channels, so no two goroutines write
// the same plane, and each plane receives its RoIs in order: the sums are
// deterministic and in torchvision's order.
func RoIAlignBackward(gradOut []float32, feat FeatureMap, rois []float32, cfg RoIAlignConfig) ([]float32, error) {
	if feat.N < 0 || feat.C < 0 || feat.H < 0 || feat.W < 0 {
		return nil, fmt.Errorf("roi align backward: negative feature map shape %dx%dx%dx%d", feat.N, feat.C, feat.H, feat.W)
	}
	grad := make([]float32, feat.N*feat.C*feat.H*feat.W)
	if err := RoIAlignBackwardAdd(grad, gradOut, feat, rois, cfg); err != nil {
		return nil, err
	}
	return grad, nil
}

// RoIAlignBackwardAdd is RoIAlignBackward adding into grad (the shape of
// feat) instead of returning a new slice; into a zeroed grad it gives
// exactly RoIAlignBackward's values.
func RoIAlignBackwardAdd(grad, gradOut []float32, feat FeatureMap, rois []float32, cfg RoIAlignConfig) error {
	shape := FeatureMap{N: feat.N, C: feat.C, H: feat.H, W: feat.W, Data: grad}
	if err := checkRoIAlign(shape, rois, cfg); err != nil {
		return fmt.Errorf("roi align backward: %w", err)
	}
	r := len(rois) / 5
	bins := cfg.OutH * cfg.OutW
	c := feat.C
	if len(gradOut) != r*c*bins {
		return fmt.Errorf("roi align backward: output gradient has %d values, want %d", len(gradOut), r*c*bins)
	}
	hw := feat.H * feat.W
	for _, ch := range roiChunks(rois, cfg, feat.H, feat.W) {
		geo := chunkGeometry(rois, ch[0], ch[1], cfg, feat.H, feat.W)
		parallelFor(c, cfg.Workers, func(k int) {
			for j := range geo {
				g := &geo[j]
				i := ch[0] + j
				plane := grad[(g.batch*c+k)*hw : (g.batch*c+k+1)*hw]
				scatterPlane(plane, g, gradOut[(i*c+k)*bins:(i*c+k+1)*bins])
			}
		})
	}
	return nil
}

// scatterPlane adds one RoI's output gradient on one channel to its plane.
func scatterPlane(plane []float32, g *roiGeometry, gout []float32) {
	// torchvision divides by the tap count without the max(.., 1) guard; with
	// zero taps there is nothing to scatter. Dividing by a power of two is
	// exactly multiplying by its inverse, which is much cheaper.
	count := float32(g.grid)
	inv, pow2 := float32(0), g.grid > 0 && g.grid&(g.grid-1) == 0
	if pow2 {
		inv = 1 / count
	}
	taps := g.taps
	for b, gb := range gout {
		for k := b * g.grid; k < (b+1)*g.grid; k++ {
			t := &taps[k]
			if t.w == [4]float32{} {
				continue // outside the map
			}
			if pow2 {
				plane[t.pos[0]] += gb * t.w[0] * inv
				plane[t.pos[1]] += gb * t.w[1] * inv
				plane[t.pos[2]] += gb * t.w[2] * inv
				plane[t.pos[3]] += gb * t.w[3] * inv
			} else {
				plane[t.pos[0]] += gb * t.w[0] / count
				plane[t.pos[1]] += gb * t.w[1] / count
				plane[t.pos[2]] += gb * t.w[2] / count
				plane[t.pos[3]] += gb * t.w[3] / count
			}
		}
	}
}

// parallelFor calls fn(0..n-1) on up to workers goroutines (0 = GOMAXPROCS).
func parallelFor(n, workers int, fn func(i int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	team.For(workers, n, func(_, i int) { fn(i) })
}
