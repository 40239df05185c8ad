package detector

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/zoo"
)

func TestRetinaNetStateDictNames(t *testing.T) {
	e := newEngine()
	sd := nn.StateDict(buildTiny(t, e, zoo.ModelRetinaNet, 1))
	shapes := map[string][]int{
		"neck.lateral_convs.0.conv.weight":  {16, 16, 1, 1}, // C3 (start_level 1)
		"neck.fpn_convs.3.conv.weight":      {16, 64, 3, 3}, // P6 on C5 (on_input)
		"neck.fpn_convs.4.conv.weight":      {16, 16, 3, 3}, // P7 on P6
		"bbox_head.cls_convs.0.conv.weight": {16, 16, 3, 3},
		"bbox_head.reg_convs.0.conv.bias":   {16},
		"bbox_head.retina_cls.weight":       {9 * 3, 16, 3, 3},
		"bbox_head.retina_reg.weight":       {9 * 4, 16, 3, 3},
	}
	for k, want := range shapes {
		if sd[k] == nil {
			t.Errorf("no tensor named %q", k)
			continue
		}
		if got := sd[k].Shape(); !slices.Equal(got, want) {
			t.Errorf("%s: shape %v, want %v", k, got, want)
		}
	}
	if sd["bbox_head.cls_convs.1.conv.weight"] != nil {
		t.Error("the tiny config's 1 stacked conv built a second")
	}
	bias := sd["bbox_head.retina_cls.bias"].Data()
	if p := 1 / (1 + math.Exp(-float64(bias[0]))); math.Abs(p-0.01) > 1e-6 {
		t.Errorf("classifier bias %g gives prior %g, want 0.01", bias[0], p)
	}
}

// TestRetinaAnchorSizes checks the octave scales: at stride 8, square
// anchors of sides 32, 32·2^(1/3), 32·2^(2/3), 9 anchors per location.
func TestRetinaAnchorSizes(t *testing.T) {
	g := RetinaAnchors()
	if g.NumBaseAnchors() != 9 {
		t.Fatalf("%d anchors per location, want 9", g.NumBaseAnchors())
	}
	base := g.BaseAnchors(0)
	for k := 0; k < 3; k++ {
		b := base[4*(3+k) : 4*(3+k)+4] // ratio 1 is the second ratio
		want := 32 * math.Pow(2, float64(k)/3)
		if w, h := float64(b[2]-b[0]), float64(b[3]-b[1]); math.Abs(w-want) > 1e-4 || math.Abs(h-want) > 1e-4 {
			t.Errorf("scale %d: %gx%g, want %g square", k, w, h, want)
		}
	}
}

// TestFPNExtraConvs checks the strides and sources of P6 and P7.
func TestFPNExtraConvs(t *testing.T) {
	for _, mode := range []string{ExtraOnInput, ExtraOnOutput} {
		e := newEngine()
		f, err := NewFPN(e, FPNOptions{InChannels: []int{4, 8}, OutChannels: 6, NumOuts: 4, ExtraConvs: mode, ReluBeforeExtra: true}, rngsFor(1, 1)[0])
		if err != nil {
			t.Fatal(err)
		}
		if in := f.Extra[0].Weight.Dim(1); (mode == ExtraOnInput) != (in == 8) {
			t.Errorf("%s: P6 conv reads %d channels", mode, in)
		}
		outs, err := f.Forward([]*tensor.Tensor{e.Zeros(1, 4, 16, 16), e.Zeros(1, 8, 8, 8)})
		if err != nil {
			t.Fatal(err)
		}
		var sizes []int
		for _, o := range outs {
			sizes = append(sizes, o.Dim(2))
		}
		if !slices.Equal(sizes, []int{16, 8, 4, 2}) {
			t.Errorf("%s: level sizes %v, want [16 8 4 2]", mode, sizes)
		}
	}
	if _, err := NewFPN(newEngine(), FPNOptions{InChannels: []int{4}, ExtraConvs: "on_lateral"}, rngsFor(1, 1)[0]); err == nil {
		t.Error("an unknown extra conv mode was accepted")
	}
}

// TestRetinaTargetsCountEveryAnchor: with no sampler, every valid anchor
// is positive, negative or ignored by IoU alone, and a gt keeps its best
// anchor however low its IoU (min_pos_iou 0).
func TestRetinaTargetsCountEveryAnchor(t *testing.T) {
	e := newEngine()
	d := buildTiny(t, e, zoo.ModelRetinaNet, 1).(*RetinaNet)
	items := tinyItems()[:1]
	items[0].GTBoxes = append(items[0].GTBoxes, 2, 2, 5, 5) // smaller than every anchor
	items[0].GTLabels = append(items[0].GTLabels, 1)
	items[0].GTCrowd = append(items[0].GTCrowd, false)
	out, err := d.forward(batch.Collate(e, items, 32).Images)
	if err != nil {
		t.Fatal(err)
	}
	n := out.Logits.Dim(1)
	tg := anchorTargets{make([]int32, n), make([]float32, n), make([]float32, 4*n), make([]float32, 4*n)}
	if err := d.BBoxHead.imageTargets(out, d.BBoxHead.grid.levels(d.BBoxHead.opt.Anchors, out.Sizes), items[0], 1, tg); err != nil {
		t.Fatal(err)
	}
	var anchors []float32
	for _, a := range d.BBoxHead.grid.levels(d.BBoxHead.opt.Anchors, out.Sizes) {
		anchors = append(anchors, a...)
	}
	iou := detection.BoxIoU(anchors, items[0].GTBoxes, false) // N x 3
	posOf := map[int]bool{}
	pos := 0
	for j, l := range tg.labels {
		best := slices.Max(iou[3*j : 3*j+3])
		switch {
		case l >= 0 && l < 3:
			pos++
			posOf[slices.Index(iou[3*j:3*j+3], best)] = true
		case l == 3 && best >= 0.4:
			t.Fatalf("anchor %d negative with IoU %g", j, best)
		case l == -1 && best < 0.4:
			t.Fatalf("anchor %d ignored with IoU %g", j, best)
		}
	}
	if len(posOf) != 3 {
		t.Errorf("positives match gts %v, want all 3 (the tiny one by its best anchor)", posOf)
	}
	if w := tg.clsW[slices.Index(tg.labels, 3)]; math.Abs(float64(w)-1/float64(pos)) > 1e-7 {
		t.Errorf("weight %g, want 1/%d positives", w, pos)
	}
}

// TestRetinaHeadKeepsExplicitZeros: zeros that are valid settings in a
// config (no stacked convs, gamma 0, alpha 0, score threshold 0) reach the
// head as written instead of turning into MMDetection's defaults.
func TestRetinaHeadKeepsExplicitZeros(t *testing.T) {
	cfg := tinyConfig(t, zoo.ModelRetinaNet)
	h := &cfg.Model.BBoxHead
	h.StackedConvs, h.FeatChannels, h.LossCls.Gamma, h.LossCls.Alpha = 0, 8, 0, 0
	cfg.TestCfg.ScoreThr = 0
	e := newEngine()
	d, err := NewRetinaNetFromConfig(e, cfg, rand.New(rand.NewPCG(1, 0)))
	if err != nil {
		t.Fatal(err)
	}
	opt := d.BBoxHead.opt
	if opt.StackedConvs != 0 || opt.Gamma != 0 || opt.Alpha != 0 || opt.ScoreThr != 0 {
		t.Errorf("head options stacked_convs %d gamma %g alpha %g score_thr %g, want all 0",
			opt.StackedConvs, opt.Gamma, opt.Alpha, opt.ScoreThr)
	}
	if n := len(d.BBoxHead.ClsConvs) + len(d.BBoxHead.RegConvs); n != 0 {
		t.Errorf("%d stacked convs built, want none", n)
	}
	// Without stacked convs the classifiers read the 16 pyramid channels,
	// not feat_channels.
	if got := d.BBoxHead.Cls.Weight.Shape(); got[1] != 16 {
		t.Errorf("retina_cls weight %v, want 16 input channels", got)
	}
	losses, err := d.Losses(batch.Collate(e, tinyItems(), 32), rngsFor(5, 2))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range losses {
		if x := float64(v.Item()); math.IsNaN(x) || math.IsInf(x, 0) {
			t.Errorf("%s = %g", k, x)
		}
	}
}

func TestDefaultRetinaHeadOptionsAreMMDetections(t *testing.T) {
	o := DefaultRetinaHeadOptions(256, 80)
	if o.StackedConvs != 4 || o.Gamma != 2 || o.Alpha != 0.25 || o.ScoreThr != 0.05 || o.NMSThr != 0.5 ||
		o.NMSPre != 1000 || o.MaxPerImg != 100 || o.PriorProb != 0.01 || o.FeatChannels != 256 || o.AllowedBorder != -1 {
		t.Errorf("defaults %+v", o)
	}
	if o.Anchors.NumBaseAnchors() != 9 || o.Loss != (BoxLoss{Type: LossSmoothL1, Beta: 0.11}) {
		t.Errorf("anchors %d per location, loss %+v", o.Anchors.NumBaseAnchors(), o.Loss)
	}
}

// TestRetinaCandidatesPerLevel: MMDetection keeps a level's nms_pre anchors
// of best class score and then every class above score_thr, so an anchor
// outside them loses even its pairs that outscore kept ones; torchvision's
// TopPairs keeps the nms_pre best (anchor, class) pairs instead.
func TestRetinaCandidatesPerLevel(t *testing.T) {
	scores := []float32{
		0.30, 0.04, 0.20, // anchor 0: best 0.30
		0.10, 0.90, 0.06, // anchor 1: best 0.90
		0.25, 0.26, 0.27, // anchor 2: best 0.27, every pair above anchor 1's 0.10
		0.50, 0.01, 0.02, // anchor 3: best 0.50
	}
	for _, c := range []struct {
		topPairs bool
		want     []string
	}{
		{false, []string{"1/0/0.1", "1/1/0.9", "1/2/0.06", "3/0/0.5"}},
		{true, []string{"1/1/0.9", "3/0/0.5"}},
	} {
		h := &RetinaHead{opt: RetinaHeadOptions{NMSPre: 2, ScoreThr: 0.05, TopPairs: c.topPairs}}
		rows, classes, kept := h.candidates(scores, 3)
		var got []string
		for j := range rows {
			got = append(got, fmt.Sprintf("%d/%d/%g", rows[j], classes[j], kept[j]))
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("TopPairs %v: candidates %v, want %v", c.topPairs, got, c.want)
		}
	}
}
