package detector

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// The fixture comes from testdata/gen_torchvision_retinanet.py: torchvision
// 0.14's FPN with LastLevelP6P7 (P6 on P5) and RetinaNetHead at width 16, 3
// classes, random weights, fed fixed C3-C5 features of two 64x128 images.

type tvArray struct {
	Shape []int     `json:"shape"`
	Data  []float32 `json:"data"`
}

type tvRetinaFixture struct {
	StateDict      map[string]tvArray `json:"state_dict"`
	C, P           []tvArray
	ClsLogits      tvArray `json:"cls_logits"`
	BBoxRegression tvArray `json:"bbox_regression"`
	Anchors        tvArray `json:"anchors"`
	GT             []struct {
		Boxes  tvArray `json:"boxes"`
		Labels []int32 `json:"labels"`
	} `json:"gt"`
	Losses     map[string]float64 `json:"losses"`
	Detections []struct {
		Boxes  tvArray `json:"boxes"`
		Scores tvArray `json:"scores"`
		Labels []int32 `json:"labels"`
	} `json:"detections"`
}

// tvRetinaNames maps torchvision's names onto detflow's (MMDetection's).
var tvRetinaNames = []struct {
	re  *regexp.Regexp
	rep string
}{
	{regexp.MustCompile(`^fpn\.inner_blocks\.(\d)\.0\.`), "neck.lateral_convs.$1.conv."},
	{regexp.MustCompile(`^fpn\.layer_blocks\.(\d)\.0\.`), "neck.fpn_convs.$1.conv."},
	{regexp.MustCompile(`^fpn\.extra_blocks\.p6\.`), "neck.fpn_convs.3.conv."},
	{regexp.MustCompile(`^fpn\.extra_blocks\.p7\.`), "neck.fpn_convs.4.conv."},
	{regexp.MustCompile(`^head\.classification_head\.conv\.(\d)\.0\.`), "bbox_head.cls_convs.$1.conv."},
	{regexp.MustCompile(`^head\.classification_head\.cls_logits\.`), "bbox_head.retina_cls."},
	{regexp.MustCompile(`^head\.regression_head\.conv\.(\d)\.0\.`), "bbox_head.reg_convs.$1.conv."},
	{regexp.MustCompile(`^head\.regression_head\.bbox_reg\.`), "bbox_head.retina_reg."},
}

// tvRetina is the fixture's neck and head in detflow, set to torchvision's
// choices where MMDetection's differ (P6 on P5 with a ReLU before P7,
// rounded anchors, L1 box loss, top pairs at inference, 300 detections).
type tvRetina struct {
	Neck     *FPN
	BBoxHead *RetinaHead
}

func (m *tvRetina) Params() []nn.Named  { return nil }
func (m *tvRetina) Buffers() []nn.Named { return nil }
func (m *tvRetina) Children() []nn.Child {
	return []nn.Child{{Name: "neck", Module: m.Neck}, {Name: "bbox_head", Module: m.BBoxHead}}
}

func loadTVRetina(t *testing.T) (*tensor.Engine, *tvRetina, tvRetinaFixture) {
	t.Helper()
	raw, err := os.ReadFile("testdata/tv_retinanet_tiny.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx tvRetinaFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	e := newEngine()
	rng := rand.New(rand.NewPCG(1, 1))
	neck, err := NewFPN(e, FPNOptions{InChannels: []int{16, 32, 64}, OutChannels: 16, NumOuts: 5, ExtraConvs: ExtraOnOutput, ReluBeforeExtra: true}, rng)
	if err != nil {
		t.Fatal(err)
	}
	anchors := RetinaAnchors()
	anchors.RoundBase = true
	opt := DefaultRetinaHeadOptions(16, 3)
	opt.Anchors, opt.Loss, opt.TopPairs, opt.MaxPerImg = &anchors, BoxLoss{Type: LossL1}, true, 300
	head, err := NewRetinaHead(e, opt, rng)
	if err != nil {
		t.Fatal(err)
	}
	m := &tvRetina{Neck: neck, BBoxHead: head}
	sd := nn.StateDict(m)
	for name, v := range fx.StateDict {
		ours := name
		for _, r := range tvRetinaNames {
			ours = r.re.ReplaceAllString(ours, r.rep)
		}
		dst := sd[ours]
		if dst == nil || !slices.Equal(dst.Shape(), v.Shape) {
			t.Fatalf("torchvision %s (%v) has no counterpart %s", name, v.Shape, ours)
		}
		dst.CopyFrom(v.Data)
		delete(sd, ours)
	}
	if len(sd) != 0 {
		t.Fatalf("not set from torchvision: %v", slices.Sorted(mapsKeys(sd)))
	}
	return e, m, fx
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (m *tvRetina) forward(t *testing.T, e *tensor.Engine, fx tvRetinaFixture) ([]*tensor.Tensor, DenseOutput) {
	t.Helper()
	in := make([]*tensor.Tensor, len(fx.C))
	for i, c := range fx.C {
		in[i] = e.FromData(c.Data, c.Shape...)
	}
	feats, err := m.Neck.Forward(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.BBoxHead.Forward(feats)
	if err != nil {
		t.Fatal(err)
	}
	return feats, out
}

func tvItems(fx tvRetinaFixture) []*batch.Item {
	items := make([]*batch.Item, len(fx.GT))
	for i, g := range fx.GT {
		items[i] = &batch.Item{ImageID: int64(i), W: 128, H: 64, OrigW: 128, OrigH: 64, ScaleX: 1, ScaleY: 1,
			GTBoxes: g.Boxes.Data, GTLabels: g.Labels, GTCrowd: make([]bool, len(g.Labels))}
	}
	return items
}

func TestRetinaNetMatchesTorchvision(t *testing.T) {
	e, m, fx := loadTVRetina(t)
	feats, out := m.forward(t, e, fx)
	for l, p := range fx.P {
		closeTo(t, fmt.Sprintf("P%d", l+3), feats[l].Data(), p.Data)
	}
	closeTo(t, "class logits", out.Logits.Data(), fx.ClsLogits.Data)
	closeTo(t, "box regression", out.Deltas.Data(), fx.BBoxRegression.Data)
	var anchors []float32
	for _, a := range m.BBoxHead.grid.levels(m.BBoxHead.opt.Anchors, out.Sizes) {
		anchors = append(anchors, a...)
	}
	closeTo(t, "anchors", anchors, fx.Anchors.Data)
	items := tvItems(fx)
	losses, err := m.BBoxHead.Losses(out, items)
	if err != nil {
		t.Fatal(err)
	}
	for ours, theirs := range map[string]string{"loss_cls": "classification", "loss_bbox": "bbox_regression"} {
		if got, want := float64(losses[ours].Item()), fx.Losses[theirs]; math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
			t.Errorf("%s = %.7g, torchvision's %s %.7g", ours, got, theirs, want)
		}
	}
	var dets []detection.Detections
	e.NoGrad(func() { dets = m.BBoxHead.Detect(out, items) })
	for i, want := range fx.Detections {
		closeTo(t, fmt.Sprintf("image %d scores", i), dets[i].Scores, want.Scores.Data)
		closeTo(t, fmt.Sprintf("image %d boxes", i), dets[i].Boxes, want.Boxes.Data)
		if !slices.Equal(dets[i].Labels, want.Labels) {
			t.Errorf("image %d labels differ", i)
		}
	}
}
