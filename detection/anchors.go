package detection

import (
	"errors"
	"fmt"
	"math"
)

// AnchorGenerator places anchors on the feature maps of a pyramid:
// MMDetection v2's AnchorGenerator (and LegacyAnchorGenerator with Legacy).
//
// Ordering (we follow MMDetection; torchvision's AnchorGenerator is the same):
// within a level, anchors are location-major, locations in row-major order
// (y outer, x inner), and at each location the A = len(Ratios)*len(Scales) base
// anchors are ratio-major (ratio outer, scale inner: MMDetection's
// scale_major=True, torchvision's w_ratios[:, None] * scales[None, :]).
// Levels are concatenated in order. An RPN head's outputs reshaped from
// (A*c, H, W) to (H, W, A, c) line up with this order.
//
// Differences that matter for parity:
//   - torchvision rounds base anchors to integers (torch.round, half to even);
//     MMDetection v2 does not. Set RoundBase for torchvision's anchors.
//   - torchvision's sizes are absolute (32, 64, ...); MMDetection's are
//     Scales * base size, base size = stride. Scale 8 at strides 4..64 gives
//     torchvision's ((32,), (64,), (128,), (256,), (512,)).
//   - MMDetection v0/v1 (Legacy, with CenterOffset 0.5 as the v1 configs set
//     it) centre anchors at CenterOffset*(base-1), put corners 0.5*(w-1) from
//     the centre, and round (LegacyAnchorGenerator).
type AnchorGenerator struct {
	// Strides of the levels in pixels, e.g. 4, 8, 16, 32, 64.
	Strides []int
	// Scales multiply the base size, e.g. 8.
	Scales []float64
	// Ratios are height/width, e.g. 0.5, 1, 2.
	Ratios []float64
	// BaseSizes per level; empty means base size = stride.
	BaseSizes []float64
	// CenterOffset of the anchor centre within a stride cell, in [0, 1):
	// 0 in MMDetection v2 and torchvision.
	CenterOffset float64
	// RoundBase rounds base anchor corners half to even, as torchvision does.
	RoundBase bool
	// StridesFromSize places anchors with per-axis strides image size //
	// feature size, as torchvision does (61, not 64, on an 800-px side at
	// P6, whose map has 13 cells); the image size is the padded batch's.
	StridesFromSize bool
	// Legacy selects MMDetection v0/v1's anchor geometry (see the type doc).
	Legacy bool
}

// RPNAnchors returns the anchor generator of MMDetection's R-50-FPN RPN:
// scale 8, ratios 0.5, 1, 2, strides 4 to 64.
func RPNAnchors() AnchorGenerator {
	return AnchorGenerator{
		Strides: []int{4, 8, 16, 32, 64},
		Scales:  []float64{8},
		Ratios:  []float64{0.5, 1, 2},
	}
}

// Validate reports a configuration that cannot generate anchors.
func (g AnchorGenerator) Validate() error {
	if len(g.Strides) == 0 || len(g.Scales) == 0 || len(g.Ratios) == 0 {
		return errors.New("anchor generator: strides, scales and ratios must be non-empty")
	}
	if len(g.BaseSizes) != 0 && len(g.BaseSizes) != len(g.Strides) {
		return fmt.Errorf("anchor generator: %d base sizes for %d strides", len(g.BaseSizes), len(g.Strides))
	}
	for _, s := range g.Strides {
		if s <= 0 {
			return fmt.Errorf("anchor generator: stride %d is not positive", s)
		}
	}
	for _, r := range g.Ratios {
		if !(r > 0) {
			return fmt.Errorf("anchor generator: ratio %g is not positive", r)
		}
	}
	if g.CenterOffset < 0 || g.CenterOffset >= 1 {
		return fmt.Errorf("anchor generator: center offset %g is outside [0, 1)", g.CenterOffset)
	}
	return nil
}

// NumLevels is the number of pyramid levels.
func (g AnchorGenerator) NumLevels() int { return len(g.Strides) }

// NumBaseAnchors is A, the number of anchors per location.
func (g AnchorGenerator) NumBaseAnchors() int { return len(g.Scales) * len(g.Ratios) }

func (g AnchorGenerator) baseSize(level int) float64 {
	if len(g.BaseSizes) > 0 {
		return g.BaseSizes[level]
	}
	return float64(g.Strides[level])
}

// BaseAnchors returns the A x 4 anchors of a level centred on location (0, 0).
func (g AnchorGenerator) BaseAnchors(level int) []float32 {
	base := g.baseSize(level)
	out := make([]float32, 0, 4*g.NumBaseAnchors())
	for _, r := range g.Ratios {
		hRatio := math.Sqrt(r)
		wRatio := 1 / hRatio
		for _, s := range g.Scales {
			w, h := base*wRatio*s, base*hRatio*s
			var b [4]float64
			if g.Legacy {
				cx, cy := g.CenterOffset*(base-1), g.CenterOffset*(base-1)
				b = [4]float64{cx - 0.5*(w-1), cy - 0.5*(h-1), cx + 0.5*(w-1), cy + 0.5*(h-1)}
			} else {
				cx, cy := g.CenterOffset*base, g.CenterOffset*base
				b = [4]float64{cx - 0.5*w, cy - 0.5*h, cx + 0.5*w, cy + 0.5*h}
			}
			for _, v := range b {
				if g.RoundBase || g.Legacy {
					v = math.RoundToEven(v)
				}
				out = append(out, float32(v))
			}
		}
	}
	return out
}

// GridAnchors returns the featH*featW*A x 4 anchors of a level whose feature map
// is featH x featW, in the order described on AnchorGenerator.
func (g AnchorGenerator) GridAnchors(level, featH, featW int) []float32 {
	return g.StridedGridAnchors(level, featH, featW, g.Strides[level], g.Strides[level])
}

// LevelStrides returns a level's (y, x) strides for a feature map of
// featH x featW cells on a padded image of imgH x imgW pixels.
func (g AnchorGenerator) LevelStrides(level, featH, featW, imgH, imgW int) (int, int) {
	if !g.StridesFromSize || featH == 0 || featW == 0 {
		return g.Strides[level], g.Strides[level]
	}
	return imgH / featH, imgW / featW
}

// StridedGridAnchors is GridAnchors with the given per-axis strides.
func (g AnchorGenerator) StridedGridAnchors(level, featH, featW, strideY, strideX int) []float32 {
	base := g.BaseAnchors(level)
	a := len(base) / 4
	out := make([]float32, 0, 4*featH*featW*a)
	for y := 0; y < featH; y++ {
		sy := float32(y * strideY)
		for x := 0; x < featW; x++ {
			sx := float32(x * strideX)
			for j := 0; j < a; j++ {
				b := base[4*j : 4*j+4]
				out = append(out, b[0]+sx, b[1]+sy, b[2]+sx, b[3]+sy)
			}
		}
	}
	return out
}

// ValidFlags marks, in GridAnchors order, the anchors whose location lies on the
// padded image of padH x padW pixels: MMDetection's valid_flags, which keeps
// locations x < min(ceil(padW/stride), featW) (and likewise y). Anchors of the
// padding added when images of different sizes share a batch are invalid.
func (g AnchorGenerator) ValidFlags(level, featH, featW, padH, padW int) []bool {
	stride := g.Strides[level]
	validH := min((padH+stride-1)/stride, featH)
	validW := min((padW+stride-1)/stride, featW)
	a := g.NumBaseAnchors()
	out := make([]bool, featH*featW*a)
	for y := 0; y < validH; y++ {
		for x := 0; x < validW; x++ {
			o := (y*featW + x) * a
			for j := 0; j < a; j++ {
				out[o+j] = true
			}
		}
	}
	return out
}

// InsideFlags marks anchors that are valid and lie inside the image of
// imgH x imgW by at most allowedBorder pixels (MMDetection's
// anchor_inside_flags); a negative allowedBorder keeps every valid anchor.
func InsideFlags(anchors []float32, valid []bool, imgH, imgW int, allowedBorder float32) []bool {
	n := NumBoxes(anchors)
	out := make([]bool, n)
	for i := 0; i < n; i++ {
		if !valid[i] {
			continue
		}
		if allowedBorder < 0 {
			out[i] = true
			continue
		}
		b := anchors[4*i : 4*i+4]
		out[i] = b[0] >= -allowedBorder && b[1] >= -allowedBorder &&
			b[2] < float32(imgW)+allowedBorder && b[3] < float32(imgH)+allowedBorder
	}
	return out
}
