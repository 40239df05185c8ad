package detector

import (
	"fmt"

	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/tensor"
)

// RoIExtractorOptions configures multi-level RoIAlign.
type RoIExtractorOptions struct {
	// OutputSize is the pooled side; default 7.
	OutputSize int
	// SamplingRatio is the samples per bin side; 0 is adaptive (v2+).
	SamplingRatio int
	// Aligned shifts by half a pixel (torchvision aligned=True, v2+).
	Aligned bool
	// Strides of the levels pooled from; default 4, 8, 16, 32.
	Strides []int
	// FinestScale of the level mapping; default 56.
	FinestScale float64
	// Legacy uses +1 widths in the level mapping (MMDetection v0/v1).
	Legacy bool
}

func (o RoIExtractorOptions) withDefaults() RoIExtractorOptions {
	if o.OutputSize == 0 {
		o.OutputSize = 7
	}
	if len(o.Strides) == 0 {
		o.Strides = []int{4, 8, 16, 32}
	}
	if o.FinestScale == 0 {
		o.FinestScale = detection.DefaultFinestScale
	}
	return o
}

// RoIAlignDevice is the optional capability of a tensor.Device to run
// RoIAlign on its own buffers (gpu/tensordev does, with the CUDA kernels).
// When the engine's device has it, the extractor pools on the device and the
// feature maps never leave it; otherwise it runs detection.RoIAlign through
// tensor.Custom, on host copies of the maps for any device but the CPU.
//
// Both methods take the uploaded rois (g.R rows of 5) that the caller has
// validated with g.Check, so an implementation may read them unchecked, and
// they must compute what detection.RoIAlign and RoIAlignBackward compute
// under g's config, up to float32 rounding (see detection.RoIAlignGeom).
type RoIAlignDevice interface {
	// RoIAlignForward overwrites out (g.OutLen() values, R x C x OutH x
	// OutW) with RoIAlign of feat (g.FeatureLen(), N x C x H x W).
	RoIAlignForward(out, feat, rois tensor.Buffer, g detection.RoIAlignGeom)
	// RoIAlignBackward accumulates RoIAlign's feature gradient for the output
	// gradient dout (g.OutLen()) into dfeat (g.FeatureLen()); the caller
	// zeroes dfeat first. The order of the sums may vary (GPU atomics).
	RoIAlignBackward(dfeat, dout, rois tensor.Buffer, g detection.RoIAlignGeom)
}

// RoIExtractor pools every RoI from the pyramid level its size maps to
// (MMDetection's SingleRoIExtractor with RoIAlign).
type RoIExtractor struct {
	opt RoIExtractorOptions
}

// NewRoIExtractor returns a RoI extractor; it has no parameters.
func NewRoIExtractor(opt RoIExtractorOptions) *RoIExtractor {
	return &RoIExtractor{opt: opt.withDefaults()}
}

// Forward pools rois (R x 5, image index first) from levels (the first
// len(Strides) pyramid levels, [B,C,H,W] each) into [R,C,S,S], with the
// gradient flowing back into the levels. On a device with the RoIAlignDevice
// capability the pooling runs there; elsewhere through tensor.Custom.
func (x *RoIExtractor) Forward(levels []*tensor.Tensor, rois []float32) (*tensor.Tensor, error) {
	o := x.opt
	if len(levels) < len(o.Strides) {
		return nil, fmt.Errorf("roi extractor: %d feature levels for %d strides", len(levels), len(o.Strides))
	}
	levels = levels[:len(o.Strides)]
	if len(rois)%5 != 0 {
		return nil, fmt.Errorf("roi extractor: %d roi values are not R x 5", len(rois))
	}
	if levels[0].Rank() != 4 {
		return nil, fmt.Errorf("roi extractor: level 0 has shape %v", levels[0].Shape())
	}
	r, c := len(rois)/5, levels[0].Dim(1)
	cfg := detection.RoIAlignConfig{OutH: o.OutputSize, OutW: o.OutputSize, SpatialScale: 1, SamplingRatio: o.SamplingRatio, Aligned: o.Aligned}
	shapes := make([][4]int, len(levels))
	for l, t := range levels {
		if t.Rank() != 4 || t.Dim(1) != c || t.Dim(0) != levels[0].Dim(0) {
			return nil, fmt.Errorf("roi extractor: level %d has shape %v, level 0 %v", l, t.Shape(), levels[0].Shape())
		}
		shapes[l] = [4]int{t.Dim(0), t.Dim(1), t.Dim(2), t.Dim(3)}
	}
	maps := func(in [][]float32) []detection.FeatureMap {
		fm := make([]detection.FeatureMap, len(in))
		for l, d := range in {
			s := shapes[l]
			fm[l] = detection.FeatureMap{Data: d, N: s[0], C: s[1], H: s[2], W: s[3]}
		}
		return fm
	}
	groups := groupByLevel(detection.MapRoILevels(rois, len(levels), o.FinestScale, o.Legacy), len(levels))
	bins := c * o.OutputSize * o.OutputSize
	levelCfg := func(l int) detection.RoIAlignConfig {
		lc := cfg
		lc.SpatialScale = 1 / float64(o.Strides[l])
		return lc
	}
	if dev, ok := levels[0].Engine().Device().(RoIAlignDevice); ok {
		geoms := make([]detection.RoIAlignGeom, len(levels))
		for l, g := range groups {
			s := shapes[l]
			geoms[l] = detection.RoIAlignGeom{N: s[0], C: s[1], H: s[2], W: s[3], R: len(g.idx), RoIAlignConfig: levelCfg(l)}
		}
		out, err := poolOnDevice(dev, levels, rois, groups, geoms)
		if err != nil {
			return nil, fmt.Errorf("roi extractor: %w", err)
		}
		return out, nil
	}
	var ferr error
	forward := func(in [][]float32, out []float32) {
		fm := maps(in)
		for l, g := range groups {
			if len(g.idx) == 0 {
				continue
			}
			// Contiguous rows pool straight into out; others through a
			// buffer scattered afterwards.
			var pooled []float32
			if g.contiguous {
				pooled = g.rows(out, bins)
			} else {
				pooled = make([]float32, len(g.idx)*bins)
			}
			if err := detection.RoIAlignInto(pooled, fm[l], g.rows(rois, 5), levelCfg(l)); err != nil {
				ferr = fmt.Errorf("level %d: %w", l, err)
				clear(out)
				return
			}
			if !g.contiguous {
				g.scatter(out, pooled, bins)
			}
		}
	}
	backward := func(dout []float32, in [][]float32, din [][]float32) {
		fm := maps(in)
		for l, g := range groups {
			if len(g.idx) == 0 || din[l] == nil {
				continue
			}
			// din[l] arrives zeroed and only this level's RoIs add to it.
			if err := detection.RoIAlignBackwardAdd(din[l], g.rows(dout, bins), fm[l], g.rows(rois, 5), levelCfg(l)); err != nil {
				// The forward pass validated the same inputs, so this is a bug.
				tensor.Panicf("detector: roi align backward: level %d: %v", l, err)
			}
		}
	}
	out := tensor.Custom(levels[0].Engine(), []int{r, c, o.OutputSize, o.OutputSize}, levels, forward, backward)
	if ferr != nil {
		return nil, fmt.Errorf("roi extractor: %w", ferr)
	}
	return out, nil
}

// poolOnDevice is Forward on a RoIAlignDevice: the RoIs are validated on the
// host and uploaded once sorted by level, and each level's kernel writes its
// rows. When every level's RoIs are consecutive (RoIs sorted by level, as
// the RoI head's training targets are) the kernels write the output in
// place; otherwise they write a level-ordered scratch buffer that one
// IndexSelect permutes into RoI order (the backward pass gathers the output
// gradient into level order likewise), all on the device.
func poolOnDevice(dev RoIAlignDevice, levels []*tensor.Tensor, rois []float32, groups []levelGroup, geoms []detection.RoIAlignGeom) (*tensor.Tensor, error) {
	e := levels[0].Engine()
	d := e.Device()
	sorted := make([]float32, 0, len(rois))
	first := make([]int, len(levels)) // row of each level's first RoI in sorted
	inPlace := true
	for l, g := range groups {
		if len(g.idx) == 0 {
			continue
		}
		rows := g.rows(rois, 5)
		if err := geoms[l].Check(rows); err != nil {
			return nil, fmt.Errorf("level %d: roi align: %w", l, err)
		}
		first[l] = len(sorted) / 5
		sorted = append(sorted, rows...)
		inPlace = inPlace && g.contiguous
	}
	r := len(rois) / 5
	var sortedBuf tensor.Buffer
	if r > 0 {
		sortedBuf = e.FromData(sorted, r, 5).Buffer()
	}
	g0 := geoms[0]
	bins := g0.C * g0.OutH * g0.OutW
	// row(l) is where level l's rows are in a buffer of the given order.
	row := func(l int, b tensor.Buffer, roiOrder bool) tensor.Buffer {
		at := first[l]
		if roiOrder {
			at = groups[l].idx[0]
		}
		return d.View(b, at*bins, geoms[l].OutLen())
	}
	levelRoIs := func(l int) tensor.Buffer { return d.View(sortedBuf, 5*first[l], 5*geoms[l].R) }
	var toRoI, toLevel *tensor.Index // permutations between level and RoI order
	if !inPlace {
		toRoI, toLevel = permutations(e, groups, r)
	}
	forward := func(in []tensor.Buffer, out tensor.Buffer) {
		pooled := out
		if !inPlace {
			pooled = e.Empty(r * bins).Buffer()
		}
		for l := range groups {
			if geoms[l].R > 0 {
				dev.RoIAlignForward(row(l, pooled, inPlace), in[l], levelRoIs(l), geoms[l])
			}
		}
		if !inPlace {
			d.IndexSelect(pooled, 1, r, bins, toRoI.Buffer(), out)
		}
	}
	backward := func(dout tensor.Buffer, in []tensor.Buffer, din []tensor.Buffer) {
		gout := dout
		if !inPlace {
			gout = e.Empty(r * bins).Buffer()
			d.IndexSelect(dout, 1, r, bins, toLevel.Buffer(), gout)
		}
		for l := range groups {
			if geoms[l].R > 0 && din[l] != nil {
				dev.RoIAlignBackward(din[l], row(l, gout, inPlace), levelRoIs(l), geoms[l])
			}
		}
	}
	return tensor.DeviceOp(e, []int{r, g0.C, g0.OutH, g0.OutW}, levels, forward, backward), nil
}

// permutations returns, for r RoIs grouped by level, the level-order row of
// each RoI (toRoI: RoI i is row toRoI[i] of the level-ordered buffer) and
// its inverse (toLevel: row k of level order is RoI toLevel[k]).
func permutations(e *tensor.Engine, groups []levelGroup, r int) (toRoI, toLevel *tensor.Index) {
	roi, level := make([]int32, r), make([]int32, 0, r)
	for _, g := range groups {
		for _, i := range g.idx {
			roi[i] = int32(len(level))
			level = append(level, int32(i))
		}
	}
	return e.NewIndex(roi, r), e.NewIndex(level, r)
}

// levelGroup lists the RoIs (by index) pooled from one level. When they are
// consecutive (RoIs sorted by level, as the RoI head's training targets
// are), their rows are used in place instead of being gathered.
type levelGroup struct {
	idx        []int
	contiguous bool
}

func groupByLevel(lv []int, numLevels int) []levelGroup {
	groups := make([]levelGroup, numLevels)
	for i, l := range lv {
		groups[l].idx = append(groups[l].idx, i)
	}
	for l := range groups {
		idx := groups[l].idx
		groups[l].contiguous = len(idx) > 0 && idx[len(idx)-1]-idx[0] == len(idx)-1
	}
	return groups
}

// rows returns the group's rows of width w from v: a sub-slice when
// contiguous, a gathered copy otherwise.
func (g levelGroup) rows(v []float32, w int) []float32 {
	if g.contiguous {
		return v[g.idx[0]*w : (g.idx[len(g.idx)-1]+1)*w]
	}
	out := make([]float32, 0, len(g.idx)*w)
	for _, i := range g.idx {
		out = append(out, v[i*w:(i+1)*w]...)
	}
	return out
}

// scatter writes the group's rows (width w) from src back to their places
// in dst.
func (g levelGroup) scatter(dst, src []float32, w int) {
	if g.contiguous {
		copy(dst[g.idx[0]*w:], src)
		return
	}
	for k, i := range g.idx {
		copy(dst[i*w:(i+1)*w], src[k*w:(k+1)*w])
	}
}
