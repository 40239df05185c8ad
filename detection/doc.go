// Package detection holds the tensor-independent science of the detectors: box
// operations, the box coder, anchors, the MaxIoU assigner and random sampler,
// training targets, NMS and the proposal layer, RoIAlign and the FPN level
// mapping. Everything works on plain Go slices, so that it does not depend on
// the compute engine; the networks (ResNet, FPN, RPN and RoI heads, detectors)
// build on it in subpackage detector.
//
// # Contents
//
//	boxes.go        xyxy/xywh, areas, IoU and IoF matrices, clipping, small-box filter
//	box_coder.go    delta encoding/decoding (means/stds, log(1000/16) clamp)
//	anchors.go      anchor generator per level, grid anchors, valid/inside flags
//	assigner.go     MaxIoUAssigner (thresholds, low-quality matches, ignore regions)
//	sampler.go      RandomSampler (num, pos fraction, neg/pos bound, gts as proposals)
//	targets.go      RPN anchor targets and box-head RoI targets from the above
//	nms.go          greedy NMS, class-wise batched NMS, multi-class NMS for detections
//	proposals.go    the RPN proposal layer (MMDetection v2 and v0/v1 flows)
//	roi_align.go    RoIAlign forward/backward on NCHW float32 maps
//	roi_levels.go   FPN level mapping (finest scale 56) and multi-level RoIAlign
//	detectiontest/  slow reference NMS and RoIAlign and a conformance suite for
//	                every backend (CPU here, CUDA later)
//
// testdata/gen_torchvision_fixtures.py writes the torchvision 0.14 parity
// fixtures (testdata/*.json); testdata/bench_torchvision_ops.py times
// torchvision on the sizes of the Go benchmarks.
//
// # Boxes
//
// A box is (x1, y1, x2, y2) in absolute pixel coordinates of the (resized,
// unpadded) image: "xyxy". A set of N boxes is a []float32 of length 4N, row
// major, box i at [4i, 4i+4). The width of a box is x2 - x1 and its area is
// (x2 - x1) * (y2 - y1), as in MMDetection v2+, torchvision and Detectron2.
//
// MMDetection v0/v1 and Detectron used the "legacy +1" convention: a box covering
// pixels x1..x2 inclusive is x2 - x1 + 1 wide, clipping keeps x2 <= W - 1, and
// the box coder adds or removes 0.5 around centres. Every function whose result
// depends on the convention takes a `legacy bool` (false = v2+, the default
// everywhere in detflow). Reproducing the v0 model zoo numbers needs legacy on.
//
// "xywh" is (x, y, w, h) with (x, y) the top-left corner, as in COCO results
// files; under the legacy convention w = x2 - x1 + 1.
//
// # Shape letters
//
//	N  number of boxes, proposals, anchors or RoIs (rows of a box slice)
//	M  number of ground-truth boxes
//	K  number of classes (foreground only) or of deltas groups per box
//	A  number of anchors per feature-map location (len(scales) * len(ratios))
//	C  channels, H height, W width of a feature map (NCHW, row major)
//	B  images in a batch (the "N" of NCHW feature maps; RoIs name it batch index)
//	L  pyramid levels
//
// An N x M matrix (e.g. the IoU of N boxes against M boxes) is a flat slice of
// length N*M, element (i, j) at i*M + j.
//
// # Naming
//
// `pred` prefixes what a network predicts (predDeltas, predScores), `gt` the
// ground truth (gtBoxes, gtLabels); `anchors` and `proposals` are the reference
// boxes the deltas are relative to; `rois` are (batchIdx, x1, y1, x2, y2) rows
// of 5 float32 as torchvision's roi_align takes them.
//
// # Assignment sentinels
//
// The assigner returns, per proposal, the 0-based index of its ground-truth box,
// or one of two negative sentinels (torchvision's Matcher encoding):
//
//	Negative (-1)  background: max IoU below the negative threshold
//	               (torchvision BELOW_LOW_THRESHOLD; MMDetection gt_inds 0)
//	Ignored  (-2)  neither positive nor negative: between the thresholds, or
//	               covered by an ignore/crowd region; never sampled
//	               (torchvision BETWEEN_THRESHOLDS; MMDetection gt_inds -1)
//
// MMDetection's 1-based gt_inds are gtIndex+1 for positives, 0 for Negative and
// -1 for Ignored; MMDetectionGtInds converts. Labels of non-positive proposals
// are NoLabel (-1) out of the assigner; the RoI head maps them to its
// background class (K in v2+, 0 in v0/v1).
//
// # Determinism
//
// Every sort is stable: ties in score keep the lower index first. Random
// sampling takes a caller-supplied *rand.Rand (math/rand/v2) and never a global
// source, so a seed reproduces a run.
package detection

// Assignment sentinels; see the package documentation.
const (
	// Negative marks a background proposal (max IoU < negative threshold).
	Negative = -1
	// Ignored marks a proposal that is neither positive nor negative.
	Ignored = -2

	// BelowLowThreshold is torchvision's name for Negative.
	BelowLowThreshold = Negative
	// BetweenThresholds is torchvision's name for Ignored.
	BetweenThresholds = Ignored

	// NoLabel is the label the assigner gives non-positive proposals.
	NoLabel = -1
)
