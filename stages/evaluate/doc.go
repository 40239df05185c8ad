// Package evaluate is the evaluate stage: it runs a trained detector over
// the val split's records as a Beam pipeline, evaluates every image with
// COCOeval in the workers, merges the per-image evaluations in one global
// combine, and writes what MMDetection's test script reports.
//
// Layout of the stage folder:
//
//	results.bbox.json       COCO results (pycocotools' loadRes reads it);
//	results.proposal.json   one file per evaluate.iou_types entry
//	results.segm.json       masks as compressed RLE (with their boxes): for iou
//	                        type segm, and whenever a mask model's detections carry masks
//	detections.parquet      schemas.Detection rows, the same boxes (and masks) as the results files
//	metrics.parquet         schemas.Metric rows: the 12 COCO stats, AP/<category>
//	                        (bbox, segm) or AR@N (proposal), and inference_images_per_s
//	summary.txt             pycocotools' summarize() printout per iou type (also logged)
//
// # Pipeline
//
//	shardRef (records shard number and file) --Reshuffle-->
//	inferShardFn: model loaded once per DoFn instance in Setup; per shard,
//	    batches of evaluate.batch images -> Model.Predict (once for bbox and
//	    segm) -> labels to COCO category ids, xyxy to xywh, masks to RLE
//	    strings -> one part file of detections per shard
//	    (deterministic name: a retried bundle overwrites it) and, per image
//	    and iou type, KV<iou type, coco.ImageEval>
//	CombinePerKey(accumulateFn): lists of ImageEvals merged in any order;
//	    ExtractOutput runs accumulate and summarize once -> a small summary
//	writeSummaryFn: the summary as a JSON file next to the parts
//
// The driver then gathers the parts into the outputs above and deletes
// them. Results come back through files because the driver and the workers
// may be different processes or machines; everything lives under the
// stage's output folder, so gs:// runs work the same (workers copy a remote
// checkpoint to a local temporary file for the loader).
//
// The checkpoint is the model stage's latest; when model.load_from is set
// and that stage has not run (pipeline run NAME --stages
// dataset,records,evaluate), it is model.load_from, a released detector of
// any layout detector.LoadFrom reads (Stage.OptionalInputs). URLs and
// torchvision:// names are downloaded by the driver into hub's cache.
//
// Detection IDs, which break COCOeval's score ties, are positions within
// an image; the results files keep each image's order, so re-evaluating
// them gives bit-identical numbers.
//
// # Models and off-process workers
//
// A Model comes from a Loader. Beam serialises a DoFn as its exported
// fields, and a Go function cannot be serialised, so the DoFn carries the
// loader's registered name and looks it up in Setup: a Loader must be a
// top-level function registered with RegisterLoader from an init function
// in a package the binary links. Workers are the same binary (or one built
// from the same main package) started with Beam's --worker flag; they run
// every init but not main, so the registration reaches them while a value
// set in main would not. Stage.Run checks the registration before starting
// the pipeline.
//
// With `--runner=universal --endpoint=HOST:PORT`, the universal runner
// stages a worker binary even when the environment does not use it; pass
// --worker_binary (the running binary, or one built with CGO_ENABLED=0) or
// it compiles one. The tests run the stage against a standalone prism job
// server with --environment_type=EXTERNAL (a worker pool in another
// process) and PROCESS (harness processes the runner starts) and compare
// the metrics with the in-process run.
//
// Each DoFn instance loads the model once; runners may run several
// instances (concurrent bundles) per worker process, each with its own copy.
//
// # Scale
//
// A COCO image's ImageEval is a few kilobytes, so the combine's partial
// accumulators for a 5000-image split reach tens of megabytes per message;
// prism and the Go harness accept gRPC messages up to 2 GB. The driver holds
// the split's detections (100 per image for bbox) in memory while writing
// the results files.
package evaluate
