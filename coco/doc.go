// Package coco reads and writes COCO instances and results files and
// evaluates detections exactly as pycocotools' COCOeval does, bit for bit,
// on all cores, with per-image results that separate workers compute and
// one accumulator merges in any order.
//
// # Box format and naming
//
// Every box is a Box, [x, y, w, h] in pixels as in COCO JSON: (x, y) is the
// top-left corner, w and h are the width and height, with no +1 (boxes of
// MMDetection v0, which wrote w = x2 - x1 + 1, are evaluated as written).
// Ground truth is "gt" (Annotation, Dataset), detections are "dt"
// (Detection, results files); an ID names a COCO id, a rank or index a
// position in a sorted list.
//
// Shape letters of the accumulated arrays (Result.Precision is [T,R,K,A,M],
// Result.Recall is [T,K,A,M], both row-major, -1 where a category has no
// ground truth to find):
//
//	T  IoU thresholds .50:.05:.95 (numpy linspace values, 10)
//	R  recall thresholds 0:.01:1 (101)
//	K  categories in ascending id order; 1 (id -1) when categories are ignored
//	A  area ranges all, small (area <= 32²), medium, large (> 96²); ends inclusive
//	M  maxDets: 1, 10, 100 for bbox; 100, 300, 1000 for proposals
//
// # Entry points
//
//	EvaluateFiles(ctx, gt, results, iouType) files in, *Result out (what `pipeline coco-eval` runs)
//	LoadDataset / WriteDataset               instances JSON, streamed element by element
//	LoadDatasetMasks                         the same keeping segmentations as RLEs (segm)
//	ReadResults / WriteResults               results JSON with loadRes semantics
//	NewParams(iouType)                       COCOeval's defaults for an iou type
//	Evaluate(ctx, gt, dets, params)          in-memory evaluation on all cores
//	NewEvaluator, EvaluateImage, NewAccumulator, Add, Merge, Accumulate
//	                                         the same, split for distributed workers
//	Result.Summary(w), Result.Rows()         pycocotools' printout and metric rows
//	RLE, EncodeMask, PolygonToRLE, BoxToRLE, MergeRLEs, MaskIoU,
//	ParseRLEString, RLE.String/Area/BBox/Decode, CompressedRLE
//	                                         maskApi.c's mask operations, bit-exact
//
// Detections' IDs are their 1-based rows in the results file (ReadResults
// assigns them, as loadRes does) and break score ties; detections made in
// memory should get the rows WriteResults will give them.
//
// # IoU types
//
// Params.IoUType is pycocotools' iouType: BBox ("bbox", COCOeval defaults),
// Segm ("segm", RLE masks, COCOeval defaults) and Proposal ("proposal": bbox
// with useCats=0 and maxDets 100/300/1000, the class-agnostic recall the
// model zoo reports for RPN; the detections' categories are ignored). An
// unknown type is an error. What differs per type sits in one place,
// IoUType.spec: the IoU of a detection and a ground truth (crowd rule
// included), the detection area the area ranges test, the default useCats
// and maxDets, and the metric rows. Matching, accumulate and summarize are
// shared, so segm's rows come out as segm_mAP... from the code that names
// bbox's.
//
// # Masks
//
// An RLE is pycocotools' run-length mask: column-major pixels, counts of
// alternating 0 and 1 runs starting with 0s. Ground truth is converted as
// annToRLE does (polygons rasterised by rleFrPoly's integer edge walk on a
// 5x grid at the image's size, parts merged; RLEs, compressed or not, kept
// with their own size). A result's mask is its compressed string; loadRes's
// branch is taken on the first row: a segmentation without a bbox makes
// every area the mask's and fills missing boxes by toBbox, otherwise areas
// are w*h (as for MMDetection's segm files, which carry boxes) and a row
// without a mask is its box rasterised as a polygon. Mask IoU is rleIou:
// boxes first (no overlap scores 0), masks of different sizes -1, crowd
// regions intersection over the detection's area.
//
// # Metric rows (Result.Rows)
//
// bbox (and any detection type, prefixed by its name), in COCOeval stats
// order, then one row per category:
//
//	bbox_mAP     AP @[.50:.95, all, 100]     bbox_AR_1    AR @[.50:.95, all, 1]
//	bbox_mAP_50  AP @[.50, all, 100]         bbox_AR_10   AR @[.50:.95, all, 10]
//	bbox_mAP_75  AP @[.75, all, 100]         bbox_AR_100  AR @[.50:.95, all, 100]
//	bbox_mAP_s   AP @[.50:.95, small, 100]   bbox_AR_s    AR @[.50:.95, small, 100]
//	bbox_mAP_m   AP @[.50:.95, medium, 100]  bbox_AR_m    AR @[.50:.95, medium, 100]
//	bbox_mAP_l   AP @[.50:.95, large, 100]   bbox_AR_l    AR @[.50:.95, large, 100]
//	AP/<category name>  AP @[.50:.95, all, 100] of that category (MMDetection's
//	                    classwise AP); -1 when it has no ground truth
//
// proposal: AR@100, AR@300, AR@1000 (area all) and AR_s@1000, AR_m@1000,
// AR_l@1000. Values are fractions in [0, 1], or -1 where COCOeval prints -1.
//
// # Faithfulness to pycocotools
//
// Reproduced on purpose: IoU in float64 in maskApi's bbIou operation order;
// against a crowd, IoU is intersection over the detection's area and a crowd
// can absorb any number of detections, which are then ignored; ground truth
// ignore = iscrowd (a file's "ignore" field is overwritten, as in
// pycocotools); area ranges use the annotation's "area" field for ground
// truth and w*h for detections; detections are capped per image and category
// after a stable sort on descending score (ties keep file order); among equal
// IoUs the later ground truth wins; a ground truth with id 0 counts as
// unmatched (pycocotools stores matched ids and tests them for non-zero);
// accumulate ranks detections by score with ties in image-id order, so merge
// order never matters; recall thresholds are found with searchsorted (left);
// means are summed in numpy's block-pairwise order. Parity tests against
// numbers recorded from pycocotools are in testdata/parity.
//
// Deliberate differences, each where pycocotools would crash or silently
// drop data: results naming unknown images are rejected with counts (as
// loadRes asserts), and so are, for bbox, results naming unknown categories
// (pycocotools drops them); for proposals, rows of unknown categories are
// kept and tie-ordered after the known ones (pycocotools drops them); a
// ground truth without "area" gets w*h; an empty results array is valid.
// Segmentation is skipped by LoadDataset (bbox evaluation does not use it).
// For masks: an RLE whose counts do not sum to h*w, a compressed string
// with a character outside '0'..'o', ending inside a count or decoding to
// a negative count, a polygon with an odd number of coordinates, a
// non-finite or huge one, masks over 2^29 pixels, and polygon results
// (segm reads RLE results) are errors naming the row; a polygon list whose
// first part has 4 numbers is rasterised as polygons (pycocotools takes it
// for boxes and fails); ground truth without a segmentation is an error.
package coco
