// Package analysis breaks a run's detections down the way detection
// toolboxes do after an evaluation, computed with package coco's evaluator
// from the ground truth and the results (no Python):
//
//   - ErrorCurves: Detectron's and MMDetection's coco_error_analysis, the
//     precision/recall curves at C75, C50, Loc, Sim, Oth, BG and FN per
//     category and area range (see ErrorCurves for what each one forgives).
//   - ConfusionMatrix: MMDetection's confusion_matrix, detections above a
//     score matched to ground truth above an IoU, background as the last
//     row and column.
//   - ImageAPs: COCO AP of each image on its own, to find the worst and best
//     images as MMDetection's analyze_results does.
//
// Nothing here changes how coco evaluates: every curve is a plain coco
// evaluation with other parameters or relabelled ground truth.
package analysis
