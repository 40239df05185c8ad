// Package proposals is the proposals stage of the fast_rcnn_with_proposals
// pipeline: it produces, for every image of every split of the dataset
// stage, ranked object proposals, and measures their recall.
//
// Methods (config key proposals.method):
//
//   - selective_search: model-free proposals (package selsearch) computed by
//     a Beam pipeline over the images; elements are parts of up to
//     ImagesPerPart image references (ids, file names, sizes), each worker
//     decodes the images itself and writes one Parquet part file per
//     element, so a retried element rewrites the same file.
//   - file: import precomputed proposals (MMDetection v0-v2 and 3.x,
//     Detectron and Detectron2 pickles, JSON, or detflow's own Parquet); see
//     import.go for the layouts and the checks against the annotation file.
//   - rpn: run a trained RPN (detector.RPN) over the images, as a Beam
//     pipeline shaped like selective_search's, the model loaded once per
//     worker (DoFn Setup). proposals.rpn.checkpoint names an rpn pipeline
//     run directory (its train/latest checkpoint), its train folder, a
//     checkpoint file, or just the name of a run in the same --workdir
//     (e.g. rpn_tiny_synth). The RPN's architecture, test_cfg (proposal count,
//     NMS), image pipeline (data) and batch (evaluate.batch) come from the
//     config.yaml of the run that trained it (beside the checkpoint or one
//     folder up), not from this run's model section, which describes the
//     Fast R-CNN. The driver loads the RPN once before the workers start,
//     so a missing checkpoint, a config that is not an RPN's or weights
//     that do not fit the architecture fail at once; see rpn_source.go.
//
// Every method then clips boxes to the image, drops boxes with a side below
// proposals.min_size (and empty ones), keeps the proposals.top_k_train
// (train split) or proposals.top_k_test (other splits) highest-scoring ones,
// and writes the stage's outputs:
//
//	<split>/part-NNNNN.parquet   schemas.ImageProposals rows, images in
//	                             ascending id order, ImagesPerPart per part
//	metrics.parquet              schemas.Metric rows: stage "proposals",
//	                             iou_type "proposal", dataset "<split>",
//	                             AR@100, AR@300, AR@1000, AR_s/m/l@1000
//	                             (COCO proposal recall, useCats=0), plus
//	                             proposals_per_image and, for
//	                             selective_search and rpn, images_per_s
//	                             (wall time of the Beam run) (iou_type "")
//
// The orchestrator publishes the stage folder atomically after Run returns.
package proposals
