package detector

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/tensor"
)

// The fixture comes from testdata/gen_torchvision_mask.py: torchvision
// 0.14's mask branch of maskrcnn_resnet50_fpn (MultiScaleRoIAlign 14x14,
// MaskRCNNHeads, MaskRCNNPredictor) at width 8 with random weights, and
// paste_masks_in_image, on fixed P2-P5 features of one 128x192 image.

type tvFloats struct {
	Shape []int  `json:"shape"`
	B64   string `json:"b64"`
}

func (a tvFloats) values(t *testing.T) []float32 {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(a.B64)
	if err != nil || len(raw)%4 != 0 {
		t.Fatalf("fixture array: %v (%d bytes)", err, len(raw))
	}
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

type tvMaskFixture struct {
	StateDict map[string]tvFloats `json:"state_dict"`
	Features  []tvFloats          `json:"features"`
	RoIs      tvFloats            `json:"rois"`
	Labels    []int32             `json:"labels"`
	Logits    tvFloats            `json:"logits"`
	OrigBoxes tvFloats            `json:"orig_boxes"`
	OrigSize  [2]int              `json:"orig_size"`
	Pasted    [][]uint32          `json:"pasted"`
}

// tvMaskBranch builds detflow's extractor and head with the fixture's
// weights (torchvision's background logit channel 0 dropped).
func tvMaskBranch(t *testing.T, e *tensor.Engine, fx tvMaskFixture) (*RoIExtractor, *MaskHead) {
	t.Helper()
	w := fx.StateDict["0.0.weight"].Shape[0]
	k := len(fx.StateDict["mask_fcn_logits.bias"].values(t)) - 1
	h, err := NewMaskHead(e, MaskHeadOptions{InChannels: w, ConvChannels: w, NumClasses: k}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	set := func(dst *tensor.Tensor, name string, skip int) {
		v := fx.StateDict[name].values(t)
		dst.CopyFrom(v[skip*len(v)/(k+1):][:dst.Len()])
	}
	for i, c := range h.Convs {
		set(c.Weight, fmt.Sprintf("%d.0.weight", i), 0)
		set(c.Bias, fmt.Sprintf("%d.0.bias", i), 0)
	}
	set(h.Upsample.Weight, "conv5_mask.weight", 0)
	set(h.Upsample.Bias, "conv5_mask.bias", 0)
	set(h.ConvLogits.Weight, "mask_fcn_logits.weight", 1)
	set(h.ConvLogits.Bias, "mask_fcn_logits.bias", 1)
	x := NewRoIExtractor(RoIExtractorOptions{OutputSize: 14, SamplingRatio: 2, Strides: []int{4, 8, 16, 32}, FinestScale: 56})
	return x, h
}

// TestMaskBranchMatchesTorchvision: pooled from the same features with the
// same weights, detflow's mask logits are torchvision's within 1e-4, and
// its torchvision paste mode gives torchvision's pasted masks (IoU >= 0.99
// per detection).
func TestMaskBranchMatchesTorchvision(t *testing.T) {
	raw, err := os.ReadFile("testdata/tv_mask_head_tiny.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx tvMaskFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	e := newEngine()
	x, h := tvMaskBranch(t, e, fx)
	var feats []*tensor.Tensor
	for _, f := range fx.Features {
		feats = append(feats, e.FromData(f.values(t), f.Shape...))
	}
	boxes := fx.RoIs.values(t)
	var rois []float32
	for i := 0; i < len(boxes); i += 4 {
		rois = append(rois, 0, boxes[i], boxes[i+1], boxes[i+2], boxes[i+3])
	}
	pooled, err := x.Forward(feats, rois)
	if err != nil {
		t.Fatal(err)
	}
	logits := h.Forward(pooled)
	want := fx.Logits.values(t)
	got := logits.Data()
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-4+1e-4*math.Abs(float64(want[i])) {
			t.Fatalf("logit %d (shape %v) = %v, torchvision %v", i, logits.Shape(), got[i], want[i])
		}
	}
	probs := tensor.Sigmoid(classMaps(logits, fx.Labels)).Data()
	p, err := newPaster(PasteTorchvision, 0.5, fx.OrigSize[0], fx.OrigSize[1])
	if err != nil {
		t.Fatal(err)
	}
	orig := fx.OrigBoxes.values(t)
	for j, counts := range fx.Pasted {
		tv := coco.RLE{H: fx.OrigSize[0], W: fx.OrigSize[1], Counts: counts}
		m := p.paste(probs[j*784:(j+1)*784], 28, orig[4*j:4*j+4])
		if iou := coco.MaskIoU(m, tv, false); iou < 0.99 {
			t.Errorf("detection %d: pasted mask IoU %.4f with torchvision's (areas %d, %d)", j, iou, m.Area(), tv.Area())
		}
	}
}
