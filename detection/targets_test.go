package detection

import (
	"math/rand/v2"
	"testing"
)

func TestBuildAnchorTargets(t *testing.T) {
	gen := RPNAnchors()
	imgH, imgW := 64, 96
	var anchors []float32
	var valid []bool
	for l, s := range gen.Strides {
		fh, fw := (imgH+s-1)/s, (imgW+s-1)/s
		anchors = append(anchors, gen.GridAnchors(l, fh, fw)...)
		valid = append(valid, gen.ValidFlags(l, fh, fw, imgH, imgW)...)
	}
	gt := []float32{10, 10, 40, 40, 50, 20, 90, 60}
	cfg := DefaultRPNTargets()
	tg, err := BuildAnchorTargets(rand.New(rand.NewPCG(1, 1)), anchors, valid, imgH, imgW, gt, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := NumBoxes(anchors)
	if tg.NumPos == 0 || tg.NumPos+tg.NumNeg != cfg.Sampler.Num {
		t.Fatalf("%d positives, %d negatives; want some positives and %d in all", tg.NumPos, tg.NumNeg, cfg.Sampler.Num)
	}
	var pos, weighted int
	iou := BoxIoU(anchors, gt, false)
	for i := 0; i < n; i++ {
		if tg.ObjectnessWeights[i] == 1 {
			weighted++
		}
		if tg.Objectness[i] != 1 {
			if tg.BoxWeights[4*i] != 0 {
				t.Fatalf("anchor %d: box weight without being positive", i)
			}
			continue
		}
		pos++
		// The target decodes back onto a gt with which the anchor overlaps.
		dec := cfg.Coder.Decode(anchors[4*i:4*i+4], tg.BoxTargets[4*i:4*i+4])
		g := 0
		if iou[2*i+1] > iou[2*i] {
			g = 1
		}
		allClose(t, "decoded target", dec, gt[4*g:4*g+4], 1e-5, 1e-3)
	}
	if pos != tg.NumPos || weighted != tg.NumPos+tg.NumNeg {
		t.Fatalf("counted %d positives and %d weighted, result says %d and %d", pos, weighted, tg.NumPos, tg.NumPos+tg.NumNeg)
	}

	// v0's allowed border 0 excludes anchors crossing the image border.
	cfg.AllowedBorder = 0
	tg, err = BuildAnchorTargets(rand.New(rand.NewPCG(1, 1)), anchors, valid, imgH, imgW, gt, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	inside := InsideFlags(anchors, valid, imgH, imgW, 0)
	for i := 0; i < n; i++ {
		if !inside[i] && tg.ObjectnessWeights[i] != 0 {
			t.Fatalf("anchor %d crosses the border but has weight %g", i, tg.ObjectnessWeights[i])
		}
	}
	if _, err := BuildAnchorTargets(rand.New(rand.NewPCG(1, 1)), anchors, valid[:3], imgH, imgW, gt, nil, cfg); err == nil {
		t.Error("short valid flags: no error")
	}
}

func TestBuildRoITargets(t *testing.T) {
	proposals := []float32{
		0, 0, 10, 10, // on gt 0
		21, 20, 40, 40, // on gt 1
		60, 60, 70, 70, // background
	}
	gt := []float32{0, 0, 10, 10, 20, 20, 40, 40}
	labels := []int{4, 2}
	assign, err := RCNNAssigner().Assign(proposals, gt, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	sample, err := RCNNSampler().Sample(rand.New(rand.NewPCG(3, 3)), assign, proposals, gt, labels)
	if err != nil {
		t.Fatal(err)
	}
	coder := RoIBoxCoder()
	tg := BuildRoITargets(sample, gt, 5, coder)
	// Positives: the two gts (added as proposals) and proposals 0 and 1; the
	// negative: proposal 2.
	if tg.NumPos != 4 || len(tg.Labels) != 5 {
		t.Fatalf("%d positives of %d, want 4 of 5", tg.NumPos, len(tg.Labels))
	}
	equalInts(t, "labels", tg.Labels, []int{4, 2, 4, 2, 5})
	allClose(t, "last roi is the negative", tg.Rois[16:20], proposals[8:12], 0, 0)
	allClose(t, "gt targets are zero", tg.BoxTargets[:8], make([]float32, 8), 0, 1e-6)
	allClose(t, "decoded positive", coder.Decode(tg.Rois[12:16], tg.BoxTargets[12:16]), gt[4:8], 1e-5, 1e-3)
	allClose(t, "box weights", tg.BoxWeights[12:20], []float32{1, 1, 1, 1, 0, 0, 0, 0}, 0, 0)
	allClose(t, "label weights", tg.LabelWeights, []float32{1, 1, 1, 1, 1}, 0, 0)
}
