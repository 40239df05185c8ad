package detector

import (
	"fmt"
	"math"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/detection"
)

// Mask target modes: how a positive RoI's target is cut from its gt mask.
const (
	// TargetMMDet is MMDetection v1's mask_target: the RoI's corners are
	// truncated to integers, the gt mask is cropped to the +1-inclusive box
	// (clipped to the image as numpy slicing clips), resized to the target
	// side bilinearly (cv2's INTER_LINEAR, as mmcv.imresize) and rounded to
	// 0 or 1 (the uint8 mask's rounding).
	TargetMMDet = "mmdet"
	// TargetTorchvision is torchvision's project_masks_on_boxes: RoIAlign
	// of the gt mask over the RoI (adaptive sampling, not aligned), soft
	// targets in [0, 1] that maskrcnn_loss trains on as they are.
	TargetTorchvision = "torchvision"
)

// maskTargets are the mask branch's targets for the positive RoIs: P x size
// x size, row-major, 1 inside the assigned gt's instance (mode says how).
func maskTargets(items []*batch.Item, pos PositiveRoIs, size int, mode string) ([]float32, error) {
	cut, err := targetCutter(mode)
	if err != nil {
		return nil, err
	}
	out := make([]float32, len(pos.GTIndex)*size*size)
	decoded := make([]map[int][]byte, len(items)) // per image: gt index -> column-major mask
	for p, g := range pos.GTIndex {
		img := int(pos.RoIs[5*p])
		it := items[img]
		if err := checkMasks(it); err != nil {
			return nil, err
		}
		if decoded[img] == nil {
			decoded[img] = map[int][]byte{}
		}
		m, ok := decoded[img][g]
		if !ok {
			m = it.GTMasks[g].Decode()
			decoded[img][g] = m
		}
		if err := cut(out[p*size*size:(p+1)*size*size], m, it.H, it.W, pos.RoIs[5*p+1:5*p+5], size); err != nil {
			return nil, fmt.Errorf("image %d: %w", it.ImageID, err)
		}
	}
	return out, nil
}

// targetCutter is the function that cuts one target in the mode.
func targetCutter(mode string) (func(dst []float32, m []byte, h, w int, box []float32, size int) error, error) {
	switch mode {
	case TargetMMDet:
		return cropTarget, nil
	case TargetTorchvision:
		return alignTarget, nil
	}
	return nil, fmt.Errorf("mask target mode %q: want %q or %q", mode, TargetMMDet, TargetTorchvision)
}

// checkMasks says why an item's masks cannot be targets.
func checkMasks(it *batch.Item) error {
	if it.GTMasks == nil {
		return fmt.Errorf("image %d: no instance masks (a mask head trains on records that carry them)", it.ImageID)
	}
	if len(it.GTMasks) != len(it.GTLabels) {
		return fmt.Errorf("image %d: %d gt masks for %d objects", it.ImageID, len(it.GTMasks), len(it.GTLabels))
	}
	for i, m := range it.GTMasks {
		if m.H != it.H || m.W != it.W {
			return fmt.Errorf("image %d: gt mask %d is %dx%d, the image %dx%d (h x w)", it.ImageID, i, m.H, m.W, it.H, it.W)
		}
	}
	return nil
}

// cropTarget writes TargetMMDet's size x size target of one RoI box (x1,
// y1, x2, y2) over the column-major h x w mask m into dst.
func cropTarget(dst []float32, m []byte, h, w int, box []float32, size int) error {
	x1, y1 := max(int(box[0]), 0), max(int(box[1]), 0)
	x2, y2 := int(box[2]), int(box[3])
	cw := min(x1+max(x2-x1+1, 1), w) - x1
	ch := min(y1+max(y2-y1+1, 1), h) - y1
	clear(dst)
	if cw <= 0 || ch <= 0 {
		return nil
	}
	crop := make([]float32, ch*cw)
	for y := 0; y < ch; y++ {
		for x := 0; x < cw; x++ {
			crop[y*cw+x] = float32(m[(x1+x)*h+y1+y])
		}
	}
	for i, v := range resizeBilinear(crop, ch, cw, size, size) {
		if v >= 0.5 {
			dst[i] = 1
		}
	}
	return nil
}

// alignTarget writes TargetTorchvision's size x size target of one RoI box
// over the column-major h x w mask m into dst.
func alignTarget(dst []float32, m []byte, h, w int, box []float32, size int) error {
	plane := make([]float32, h*w) // row-major, as RoIAlign reads it
	for x := 0; x < w; x++ {
		for y, v := range m[x*h : (x+1)*h] {
			plane[y*w+x] = float32(v)
		}
	}
	cfg := detection.RoIAlignConfig{OutH: size, OutW: size, SpatialScale: 1, Workers: 1}
	roi := []float32{0, box[0], box[1], box[2], box[3]}
	return detection.RoIAlignInto(dst, detection.FeatureMap{Data: plane, N: 1, C: 1, H: h, W: w}, roi, cfg)
}

// resizeBilinear resizes a row-major sh x sw map to dh x dw with half-pixel
// centres and replicated edges: cv2's INTER_LINEAR (mmcv.imresize) and
// PyTorch's bilinear interpolate with align_corners=False, which agree.
func resizeBilinear(src []float32, sh, sw, dh, dw int) []float32 {
	ys0, ys1, wy := bilinearTaps(sh, dh)
	xs0, xs1, wx := bilinearTaps(sw, dw)
	out := make([]float32, dh*dw)
	for y := 0; y < dh; y++ {
		r0, r1, fy := src[ys0[y]*sw:], src[ys1[y]*sw:], wy[y]
		for x := 0; x < dw; x++ {
			a, b, fx := xs0[x], xs1[x], wx[x]
			top := r0[a] + (r0[b]-r0[a])*fx
			bot := r1[a] + (r1[b]-r1[a])*fx
			out[y*dw+x] = top + (bot-top)*fy
		}
	}
	return out
}

// bilinearTaps returns, for each of n outputs over m inputs, the two input
// indices and the weight of the second.
func bilinearTaps(m, n int) (i0, i1 []int, frac []float32) {
	i0, i1, frac = make([]int, n), make([]int, n), make([]float32, n)
	scale := float64(m) / float64(n)
	for d := 0; d < n; d++ {
		s := max((float64(d)+0.5)*scale-0.5, 0)
		a := min(int(math.Floor(s)), m-1)
		i0[d], i1[d] = a, min(a+1, m-1)
		frac[d] = float32(s - float64(a))
		if a == m-1 {
			frac[d] = 0
		}
	}
	return i0, i1, frac
}
