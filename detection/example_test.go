package detection_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/detflow/detflow/detection"
)

func ExampleNMS() {
	boxes := []float32{
		0, 0, 10, 10,
		1, 1, 11, 11, // IoU 0.68 with the first
		20, 20, 30, 30,
	}
	scores := []float32{0.9, 0.8, 0.7}
	fmt.Println(detection.NMS(boxes, scores, 0.5, false))
	// Output: [0 2]
}

func ExampleBoxCoder() {
	coder := detection.RoIBoxCoder() // stds 0.1, 0.1, 0.2, 0.2
	proposal := []float32{0, 0, 10, 20}
	gt := []float32{5, 0, 25, 40}
	deltas := coder.Encode(proposal, gt)
	fmt.Printf("%.3f\n", deltas)
	fmt.Printf("%.3f\n", coder.Decode(proposal, deltas))
	// Output:
	// [10.000 5.000 3.466 3.466]
	// [5.000 -0.000 25.000 40.000]
}

func ExampleMaxIoUAssigner() {
	proposals := []float32{
		0, 0, 10, 10, // IoU 1 with the gt
		0, 0, 10, 4, // IoU 0.4: between the thresholds
		50, 50, 60, 60, // background
	}
	gt := []float32{0, 0, 10, 10}
	a := detection.MaxIoUAssigner{PosIoUThr: 0.5, NegIoUThr: 0.3, MinPosIoU: 0.5}
	res, err := a.Assign(proposals, gt, []int{7}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.GtIndex, res.Labels)

	sampler := detection.RandomSampler{Num: 4, PosFraction: 0.25, NegPosUB: -1, AddGtAsProposals: true}
	s, err := sampler.Sample(rand.New(rand.NewPCG(1, 2)), res, proposals, gt, []int{7})
	if err != nil {
		panic(err)
	}
	// The gt was prepended as proposal 0; one positive of the two, the
	// single negative.
	fmt.Println(len(s.PosInds), s.NegInds)
	// Output:
	// [0 -2 -1] [7 -1 -1]
	// 1 [3]
}

func ExampleAnchorGenerator() {
	g := detection.RPNAnchors() // scale 8, ratios 0.5, 1, 2, strides 4..64
	anchors := g.GridAnchors(0, 2, 3)
	fmt.Println(detection.NumBoxes(anchors), anchors[4:8], anchors[16:20])
	// Output: 18 [-16 -16 16 16] [-12 -16 20 16]
}

func ExampleMapRoILevels() {
	rois := []float32{
		0, 0, 0, 50, 50, // 50 px -> level 0 (stride 4)
		0, 0, 0, 150, 150, // level 1
		0, 0, 0, 300, 300, // level 2
		0, 0, 0, 800, 600, // level 3
	}
	fmt.Println(detection.MapRoILevels(rois, 4, detection.DefaultFinestScale, false))
	// Output: [0 1 2 3]
}
