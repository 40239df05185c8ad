package detector

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/nn/pth"
	"github.com/detflow/detflow/tensor"
)

// The fixtures come from testdata/gen_torchvision_fixtures.py (torchvision
// 0.14): a Faster R-CNN around a ResNet-18 of stem width 4, an 8-channel
// FPN, 32-wide FCs and 3 classes, with random weights.

// tvConfig is the detflow config of the fixture's architecture, with the
// extra settings given.
func tvConfig(t *testing.T, extra ...string) *configs.Config {
	t.Helper()
	cfg, err := configs.Load("faster_rcnn_tiny_synth", append([]string{
		"model.backbone.base_channels=4",
		"model.backbone.norm_eval=true",
		"model.neck.in_channels=[4,8,16,32]",
		"model.neck.out_channels=8",
		"model.rpn_head.feat_channels=8",
		"model.roi_head.bbox_head.fc_out_channels=32",
		"model.roi_head.bbox_head.num_classes=3",
		"model.roi_head.roi_extractor.sampling_ratio=2",
		"model.roi_head.roi_extractor.aligned=false",
	}, extra...))
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	return cfg
}

func loadTVDetector(t *testing.T) (*tensor.Engine, *FasterRCNN) {
	t.Helper()
	e := newEngine()
	d, err := NewFasterRCNNFromConfig(e, tvConfig(t), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := LoadTorchvisionFasterRCNN(context.Background(), d, "testdata/tv_faster_rcnn_tiny.pth")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() {
		t.Fatalf("torchvision state dict does not line up: %v", rep)
	}
	nn.SetTraining(d, false)
	return e, d
}

// closeTo compares got with want elementwise within 1e-4 relative to the
// larger of |want| and the reference's RMS (so values near zero are judged
// on the tensor's scale), reporting the first mismatches.
func closeTo(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	var ss float64
	for _, w := range want {
		ss += float64(w) * float64(w)
	}
	rms := math.Sqrt(ss / float64(max(len(want), 1)))
	bad := 0
	for i := range got {
		tol := 1e-4 * max(math.Abs(float64(want[i])), rms)
		if math.Abs(float64(got[i]-want[i])) > tol {
			if bad < 5 {
				t.Errorf("%s[%d] = %g, torchvision %g", name, i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values differ", name, bad, len(got))
	}
}

func TestTorchvisionParity(t *testing.T) {
	ref, err := pth.Load("testdata/tv_outputs.pth")
	if err != nil {
		t.Fatal(err)
	}
	get := func(k string) *pth.Tensor {
		v, ok := ref.Get(k)
		if !ok {
			t.Fatalf("fixture has no %q", k)
		}
		return v
	}
	e, d := loadTVDetector(t)
	in := get("input")
	e.NoGrad(func() {
		feats, err := d.features(e.FromData(in.F32, in.Shape...))
		if err != nil {
			t.Fatal(err)
		}
		// FPN levels P2..P6.
		for i, p := range feats {
			want := get("p" + string(rune('2'+i)))
			if !slices.Equal(p.Shape(), want.Shape) {
				t.Fatalf("P%d shape %v, torchvision %v", i+2, p.Shape(), want.Shape)
			}
			closeTo(t, "P"+string(rune('2'+i)), p.Data(), want.F32)
		}
		// RPN head, reordered from torchvision's [1,A,H,W] / [1,4A,H,W] to
		// our anchor order (location-major, anchor inner).
		out, err := d.RPNHead.Forward(feats)
		if err != nil {
			t.Fatal(err)
		}
		logits, deltas := out.Logits.Data(), out.Deltas.Data()
		off := 0
		for l, s := range out.Sizes {
			cls, reg := get("rpn_cls"+string(rune('0'+l))), get("rpn_reg"+string(rune('0'+l)))
			a := cls.Shape[1]
			h, w := s[0], s[1]
			wantCls := make([]float32, h*w*a)
			wantReg := make([]float32, 4*h*w*a)
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					for k := 0; k < a; k++ {
						j := (y*w+x)*a + k
						wantCls[j] = cls.F32[(k*h+y)*w+x]
						for c := 0; c < 4; c++ {
							wantReg[4*j+c] = reg.F32[((4*k+c)*h+y)*w+x]
						}
					}
				}
			}
			closeTo(t, "rpn_cls level "+string(rune('0'+l)), logits[off:off+h*w*a], wantCls)
			closeTo(t, "rpn_reg level "+string(rune('0'+l)), deltas[4*off:4*(off+h*w*a)], wantReg)
			off += h * w * a
		}
		// The proposal layer. torchvision rounds its base anchors: the
		// generator's RoundBase does the same.
		anchors := *d.RPNHead.opt.Anchors
		anchors.RoundBase = true
		d.RPNHead.opt.Anchors = &anchors
		clear(d.RPNHead.grid)
		item := &batch.Item{W: 64, H: 64, OrigW: 64, OrigH: 64, ScaleX: 1, ScaleY: 1}
		props, err := d.RPNHead.Proposals(out, []*batch.Item{item}, detection.ProposalConfig{NmsPre: 1000, NmsPost: 1000, MaxNum: 1000, NmsThr: 0.7})
		if err != nil {
			t.Fatal(err)
		}
		wantBoxes, wantScores := get("proposals"), get("proposal_scores")
		if len(props[0].Scores) != len(wantScores.F32) {
			t.Errorf("%d proposals, torchvision %d", len(props[0].Scores), len(wantScores.F32))
		} else {
			closeTo(t, "proposal scores", props[0].Scores, wantScores.F32)
			closeTo(t, "proposals", props[0].Boxes, wantBoxes.F32)
		}
		// RoI head on fixed RoIs: torchvision's background column 0 is our
		// last, and its background deltas are dropped.
		rb := get("rois")
		var rois []float32
		for i := 0; i < rb.Shape[0]; i++ {
			rois = append(rois, 0)
			rois = append(rois, rb.F32[4*i:4*i+4]...)
		}
		pooled, err := d.RoIHead.Extractor.Forward(feats, rois)
		if err != nil {
			t.Fatal(err)
		}
		cls, reg := d.RoIHead.BBoxHead.Forward(pooled)
		tvCls, tvReg := get("class_logits"), get("box_regression")
		k1 := tvCls.Shape[1]
		var wantCls, wantReg []float32
		for i := 0; i < rb.Shape[0]; i++ {
			row := tvCls.F32[i*k1 : (i+1)*k1]
			wantCls = append(wantCls, row[1:]...)
			wantCls = append(wantCls, row[0])
			wantReg = append(wantReg, tvReg.F32[i*4*k1+4:(i+1)*4*k1]...)
		}
		closeTo(t, "class_logits", cls.Data(), wantCls)
		closeTo(t, "box_regression", reg.Data(), wantReg)
	})
}

// TestResNetNamesMatchTorchvision compares the backbone's state dict with
// torchvision's resnet18 and resnet50 (names and shapes), classifier aside.
func TestResNetNamesMatchTorchvision(t *testing.T) {
	raw, err := os.ReadFile("testdata/tv_resnet_keys.json")
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string][][2]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatal(err)
	}
	for name, depth := range map[string]int{"resnet18": 18, "resnet50": 50} {
		r, err := NewResNet(newEngine(), ResNetOptions{Depth: depth, FrozenStages: -1}, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		own := nn.StateDict(r)
		var want []string
		for _, kv := range keys[name] {
			var k string
			var shape []int
			if err := json.Unmarshal(kv[0], &k); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(kv[1], &shape); err != nil {
				t.Fatal(err)
			}
			if k == "fc.weight" || k == "fc.bias" {
				continue
			}
			want = append(want, k)
			got, ok := own[k]
			if !ok {
				t.Errorf("%s: no %q", name, k)
				continue
			}
			if len(shape) > 0 && !slices.Equal(got.Shape(), shape) {
				t.Errorf("%s: %q has shape %v, torchvision %v", name, k, got.Shape(), shape)
			}
		}
		if len(own) != len(want) {
			t.Errorf("%s: %d tensors, torchvision has %d (without fc)", name, len(own), len(want))
		}
	}
}

func TestTorchvisionMappingRejectsBadPredictor(t *testing.T) {
	_, _, err := TorchvisionFasterRCNNStateDict(map[string]nn.HostTensor{
		"roi_heads.box_predictor.bbox_pred.weight": {Shape: []int{6, 2}, Data: make([]float32, 12)},
	})
	if err == nil {
		t.Fatal("accepted a regressor with 6 rows")
	}
}

// TestTorchvisionR50NamesMap maps the names and shapes of torchvision's
// full fasterrcnn_resnet50_fpn (91 classes, background included) onto a
// FasterRCNN built from faster_rcnn_r50_fpn_1x_coco with 90 classes: every
// tensor must find its place with the right shape, and nothing may be left.
func TestTorchvisionR50NamesMap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a full-size R-50 Faster R-CNN")
	}
	raw, err := os.ReadFile("testdata/tv_fasterrcnn_r50_keys.json")
	if err != nil {
		t.Fatal(err)
	}
	var entries [][2]json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		t.Fatal(err)
	}
	sd := map[string]nn.HostTensor{}
	for _, kv := range entries {
		var k string
		var shape []int
		if err := json.Unmarshal(kv[0], &k); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(kv[1], &shape); err != nil {
			t.Fatal(err)
		}
		n := 1
		for _, s := range shape {
			n *= s
		}
		sd[k] = nn.HostTensor{Shape: shape, Data: make([]float32, n)}
	}
	mapped, unmapped, err := TorchvisionFasterRCNNStateDict(sd)
	if err != nil {
		t.Fatal(err)
	}
	if len(unmapped) > 0 {
		t.Errorf("unmapped torchvision names: %v", unmapped)
	}
	cfg, err := configs.Load("faster_rcnn_r50_fpn_1x_coco", []string{"model.roi_head.bbox_head.num_classes=90"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewFasterRCNNFromConfig(newEngine(), cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	own := nn.StateDict(d)
	for k, v := range mapped {
		o, ok := own[k]
		if !ok {
			t.Errorf("mapped name %q is not in the detector", k)
			continue
		}
		if len(v.Shape) > 0 && !slices.Equal(o.Shape(), v.Shape) {
			t.Errorf("%q: detector %v, torchvision %v", k, o.Shape(), v.Shape)
		}
	}
	for k := range own {
		if _, ok := mapped[k]; !ok {
			t.Errorf("detector tensor %q gets nothing from torchvision", k)
		}
	}
}
