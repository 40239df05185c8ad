package detector

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/nn"
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
	GTMasks   [][]uint32          `json:"gt_masks"`
	Targets   tvFloats            `json:"targets"`
	Loss2     float64             `json:"loss_two_images"`
}

func loadTVMask(t *testing.T) tvMaskFixture {
	t.Helper()
	raw, err := os.ReadFile("testdata/tv_mask_head_tiny.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx tvMaskFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	return fx
}

// tvMaskModel holds a mask head under MaskRCNN's names.
type tvMaskModel struct{ h *MaskHead }

func (m tvMaskModel) Params() []nn.Named  { return nil }
func (m tvMaskModel) Buffers() []nn.Named { return nil }
func (m tvMaskModel) Children() []nn.Child {
	return []nn.Child{{Name: "roi_head.mask_head", Module: m.h}}
}

// tvMaskBranch builds detflow's extractor and head and loads the fixture's
// weights through TorchvisionFasterRCNNStateDict, under the names
// maskrcnn_resnet50_fpn gives them.
func tvMaskBranch(t *testing.T, e *tensor.Engine, fx tvMaskFixture) (*RoIExtractor, *MaskHead) {
	t.Helper()
	w := fx.StateDict["0.0.weight"].Shape[0]
	k := fx.StateDict["mask_fcn_logits.bias"].Shape[0] - 1
	h, err := NewMaskHead(e, MaskHeadOptions{InChannels: w, ConvChannels: w, NumClasses: k}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	sd := map[string]nn.HostTensor{}
	for name, a := range fx.StateDict {
		prefix := "roi_heads.mask_head."
		if strings.HasPrefix(name, "conv5_mask") || strings.HasPrefix(name, "mask_fcn_logits") {
			prefix = "roi_heads.mask_predictor."
		}
		sd[prefix+name] = nn.HostTensor{Shape: a.Shape, Data: a.values(t)}
	}
	mapped, unmapped, err := TorchvisionFasterRCNNStateDict(sd)
	if err != nil || len(unmapped) > 0 {
		t.Fatalf("map torchvision names: %v, unmapped %v", err, unmapped)
	}
	rep, err := nn.LoadStateDict(tvMaskModel{h}, mapped)
	if err != nil || !rep.Clean() {
		t.Fatalf("load: %v, report %+v", err, rep)
	}
	x := NewRoIExtractor(RoIExtractorOptions{OutputSize: 14, SamplingRatio: 2, Strides: []int{4, 8, 16, 32}, FinestScale: 56})
	return x, h
}

// TestMaskBranchMatchesTorchvision: pooled from the same features with the
// same weights, detflow's mask logits are torchvision's within 1e-4, and
// its torchvision paste mode gives torchvision's pasted masks (IoU >= 0.99
// per detection).
func TestMaskBranchMatchesTorchvision(t *testing.T) {
	fx := loadTVMask(t)
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

// TestTorchvisionMaskTargets: in the torchvision target mode, each positive
// RoI's target is torchvision's project_masks_on_boxes of its gt mask
// (soft RoIAlign values) within 1e-5.
func TestTorchvisionMaskTargets(t *testing.T) {
	fx := loadTVMask(t)
	h, w := fx.Features[0].Shape[2]*4, fx.Features[0].Shape[3]*4
	it := &batch.Item{ImageID: 1, W: w, H: h}
	var pos PositiveRoIs
	boxes := fx.RoIs.values(t)
	for j, counts := range fx.GTMasks {
		it.GTLabels = append(it.GTLabels, fx.Labels[j])
		it.GTMasks = append(it.GTMasks, coco.RLE{H: h, W: w, Counts: counts})
		pos.RoIs = append(pos.RoIs, 0, boxes[4*j], boxes[4*j+1], boxes[4*j+2], boxes[4*j+3])
		pos.GTIndex = append(pos.GTIndex, j)
		pos.Labels = append(pos.Labels, fx.Labels[j])
	}
	got, err := maskTargets([]*batch.Item{it}, pos, 28, TargetTorchvision)
	if err != nil {
		t.Fatal(err)
	}
	want := fx.Targets.values(t)
	soft := 0
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-5 {
			t.Fatalf("target %d (roi %d) = %v, torchvision %v", i, i/784, got[i], want[i])
		}
		if want[i] > 0 && want[i] < 1 {
			soft++
		}
	}
	if soft == 0 {
		t.Error("no soft target value: the fixture does not exercise the edges")
	}
}

// TestMaskLossMatchesTorchvisionOverTwoImages: with the fixture's RoIs
// split 2 + 4 over two images, loss_mask is torchvision's maskrcnn_loss
// (one mean over all positives' pixels, not a mean of per-image means)
// within 1e-5, and its gradient on each RoI's class logit is
// (sigmoid - target) / (R·28·28), zero on the other classes.
func TestMaskLossMatchesTorchvisionOverTwoImages(t *testing.T) {
	fx := loadTVMask(t)
	h, w := fx.Features[0].Shape[2]*4, fx.Features[0].Shape[3]*4
	items := []*batch.Item{{ImageID: 1, W: w, H: h}, {ImageID: 2, W: w, H: h}}
	var pos PositiveRoIs
	boxes := fx.RoIs.values(t)
	for j, counts := range fx.GTMasks {
		img := min(j/2, 1) // RoIs 0-1 in image 0, 2-5 in image 1
		it := items[img]
		pos.GTIndex = append(pos.GTIndex, len(it.GTMasks))
		it.GTLabels = append(it.GTLabels, fx.Labels[j])
		it.GTMasks = append(it.GTMasks, coco.RLE{H: h, W: w, Counts: counts})
		pos.RoIs = append(pos.RoIs, float32(img), boxes[4*j], boxes[4*j+1], boxes[4*j+2], boxes[4*j+3])
		pos.Labels = append(pos.Labels, fx.Labels[j])
	}
	targets, err := maskTargets(items, pos, 28, TargetTorchvision)
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine()
	x := fx.Logits.values(t)
	logits := e.FromData(x, fx.Logits.Shape...).SetRequiresGrad(true)
	loss := maskLoss(logits, pos.Labels, targets)
	if got := float64(loss.Item()); math.Abs(got-fx.Loss2) > 1e-5 {
		t.Errorf("loss_mask %.7f, torchvision's maskrcnn_loss %.7f", got, fx.Loss2)
	}
	if perImage := perImageMeanBCE(x, targets, pos, 3); math.Abs(perImage-fx.Loss2) < 1e-4 {
		t.Fatalf("per-image mean %.7f is torchvision's loss too: the fixture cannot tell them apart", perImage)
	}
	loss.Backward()
	grad := logits.Grad().Data()
	const s = 28 * 28
	r, k := len(pos.Labels), 3
	for i := range grad {
		roi, c, px := i/(k*s), i/s%k, i%s
		want := 0.0
		if c == int(pos.Labels[roi]) {
			want = (sigmoid(float64(x[i])) - float64(targets[roi*s+px])) / float64(r*s)
		}
		if math.Abs(float64(grad[i])-want) > 1e-8 {
			t.Fatalf("gradient of RoI %d class %d pixel %d = %g, want %g", roi, c, px, grad[i], want)
		}
	}
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// perImageMeanBCE is the old per-image form in float64: each image's mean
// BCE over its positives' pixels, averaged over the images.
func perImageMeanBCE(logits, targets []float32, pos PositiveRoIs, k int) float64 {
	const s = 28 * 28
	sum, n := map[int]float64{}, map[int]int{}
	for roi, l := range pos.Labels {
		img := int(pos.RoIs[5*roi])
		for px := range s {
			v, y := float64(logits[(roi*k+int(l))*s+px]), float64(targets[roi*s+px])
			sum[img] += math.Max(v, 0) - v*y + math.Log1p(math.Exp(-math.Abs(v)))
		}
		n[img] += s
	}
	mean := 0.0
	for img := range sum {
		mean += sum[img] / float64(n[img]) / float64(len(sum))
	}
	return mean
}
