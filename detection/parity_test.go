package detection

import (
	"fmt"
	"math"
	"testing"
)

// The fixtures are written by testdata/gen_torchvision_fixtures.py with
// torchvision 0.14.

func TestParityRoIAlign(t *testing.T) {
	var fx struct {
		N, C, H, W   int
		SpatialScale float64 `json:"spatial_scale"`
		Input, Rois  []float32
		Cases        []struct {
			Aligned       bool
			SamplingRatio int `json:"sampling_ratio"`
			OutH          int `json:"out_h"`
			OutW          int `json:"out_w"`
			Output        []float32
			GradOutput    []float32 `json:"grad_output"`
			GradInput     []float32 `json:"grad_input"`
		}
	}
	loadFixture(t, "roi_align.json", &fx)
	feat := FeatureMap{Data: fx.Input, N: fx.N, C: fx.C, H: fx.H, W: fx.W}
	for _, tc := range fx.Cases {
		name := fmt.Sprintf("aligned=%v/sr=%d/%dx%d", tc.Aligned, tc.SamplingRatio, tc.OutH, tc.OutW)
		t.Run(name, func(t *testing.T) {
			cfg := RoIAlignConfig{OutH: tc.OutH, OutW: tc.OutW, SpatialScale: fx.SpatialScale,
				SamplingRatio: tc.SamplingRatio, Aligned: tc.Aligned}
			out, err := RoIAlign(feat, fx.Rois, cfg)
			if err != nil {
				t.Fatal(err)
			}
			allClose(t, "output", out, tc.Output, parityRtol, parityAtol)
			grad, err := RoIAlignBackward(tc.GradOutput, feat, fx.Rois, cfg)
			if err != nil {
				t.Fatal(err)
			}
			allClose(t, "grad_input", grad, tc.GradInput, parityRtol, parityAtol)
		})
	}
}

func TestParityNMS(t *testing.T) {
	var fx struct {
		Boxes, Scores, Tied []float32
		Classes             []int
		Cases               []struct {
			IoUThreshold float64 `json:"iou_threshold"`
			ScoresName   string  `json:"scores_name"`
			Keep         []int
			BatchedKeep  []int `json:"batched_keep"`
		}
	}
	loadFixture(t, "nms.json", &fx)
	for _, tc := range fx.Cases {
		t.Run(fmt.Sprintf("%s/%g", tc.ScoresName, tc.IoUThreshold), func(t *testing.T) {
			scores := fx.Scores
			if tc.ScoresName == "tied" {
				scores = fx.Tied
			}
			equalInts(t, "nms", NMS(fx.Boxes, scores, tc.IoUThreshold, false), tc.Keep)
			equalInts(t, "reference nms", referenceNMS(fx.Boxes, scores, tc.IoUThreshold, false), tc.Keep)
			equalInts(t, "batched nms", BatchedNMS(fx.Boxes, scores, fx.Classes, tc.IoUThreshold, false), tc.BatchedKeep)
		})
	}
}

func TestParityBoxIoU(t *testing.T) {
	var fx struct{ A, B, IoU []float32 }
	loadFixture(t, "box_iou.json", &fx)
	allClose(t, "iou", BoxIoU(fx.A, fx.B, false), fx.IoU, parityRtol, parityAtol)
}

func TestParityBoxCoder(t *testing.T) {
	var fx struct {
		Ref, Gt []float32
		Cases   []struct {
			Weights  [4]float64
			Encoded  []float32
			RelCodes []float32 `json:"rel_codes"`
			Decoded  []float32
		}
	}
	loadFixture(t, "box_coder.json", &fx)
	for _, tc := range fx.Cases {
		t.Run(fmt.Sprint(tc.Weights), func(t *testing.T) {
			var c BoxCoder
			for k, w := range tc.Weights {
				c.Stds[k] = 1 / w
			}
			allClose(t, "encode", c.Encode(fx.Ref, fx.Gt), tc.Encoded, parityRtol, parityAtol)
			allClose(t, "decode", c.Decode(fx.Ref, tc.RelCodes), tc.Decoded, parityRtol, parityAtol)
		})
	}
}

func TestParityAnchors(t *testing.T) {
	var fx struct {
		Strides      []int
		Sizes        []float64
		Ratios       []float64
		FeatureSizes [][2]int `json:"feature_sizes"`
		Anchors      []float32
	}
	loadFixture(t, "anchors.json", &fx)
	// torchvision's absolute sizes 32, 64, 128 are scale 8 at strides 4, 8, 16.
	g := AnchorGenerator{Strides: fx.Strides, Scales: []float64{8}, Ratios: fx.Ratios, RoundBase: true}
	for l, s := range fx.Strides {
		if fx.Sizes[l] != 8*float64(s) {
			t.Fatalf("fixture size %g at stride %d is not scale 8", fx.Sizes[l], s)
		}
	}
	var got []float32
	for l, fs := range fx.FeatureSizes {
		got = append(got, g.GridAnchors(l, fs[0], fs[1])...)
	}
	allClose(t, "anchors", got, fx.Anchors, 0, 0)
}

// TestParityProposals runs torchvision's RegionProposalNetwork.filter_proposals
// flow (per-level top-n, sigmoid, clip, drop empty boxes, NMS per level, top-n)
// against GenerateProposals' MMDetection v2 flow, which is the same algorithm.
func TestParityProposals(t *testing.T) {
	var fx struct {
		ImageH       int `json:"image_h"`
		ImageW       int `json:"image_w"`
		Strides      []int
		FeatureSizes [][2]int `json:"feature_sizes"`
		PerLevel     []int    `json:"per_level"`
		PreNMSTopN   int      `json:"pre_nms_top_n"`
		PostNMSTopN  int      `json:"post_nms_top_n"`
		NMSThresh    float64  `json:"nms_thresh"`
		Logits       []float32
		Deltas       []float32
		Boxes        []float32
		Scores       []float32
	}
	loadFixture(t, "proposals.json", &fx)
	g := AnchorGenerator{Strides: fx.Strides, Scales: []float64{8}, Ratios: []float64{0.5, 1, 2}, RoundBase: true}
	var levels []LevelPredictions
	start := 0
	for l, fs := range fx.FeatureSizes {
		a := g.GridAnchors(l, fs[0], fs[1])
		n := NumBoxes(a)
		if n != fx.PerLevel[l] {
			t.Fatalf("level %d: %d anchors, fixture has %d", l, n, fx.PerLevel[l])
		}
		scores := make([]float32, n)
		for i := range scores {
			scores[i] = float32(1 / (1 + math.Exp(-float64(fx.Logits[start+i]))))
		}
		levels = append(levels, LevelPredictions{Scores: scores, Deltas: fx.Deltas[4*start : 4*(start+n)], Anchors: a})
		start += n
	}
	cfg := ProposalConfig{NmsPre: fx.PreNMSTopN, MaxNum: fx.PostNMSTopN, NmsThr: fx.NMSThresh}
	p, err := GenerateProposals(levels, RPNBoxCoder(), fx.ImageH, fx.ImageW, cfg)
	if err != nil {
		t.Fatal(err)
	}
	allClose(t, "scores", p.Scores, fx.Scores, 1e-6, 1e-7)
	allClose(t, "boxes", p.Boxes, fx.Boxes, parityRtol, parityAtol)
}
