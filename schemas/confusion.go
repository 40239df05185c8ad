package schemas

// ConfusionMatrix is the confusion matrix table `pipeline report` writes
// into a run's analysis folder: one row per (ground truth, prediction)
// cell, background included.
var ConfusionMatrix = Table{Name: "confusion_matrix", Version: 1}

// ConfusionCell is one row of the confusion matrix table. Category ids are
// COCO's; background is id -1 named "background" (a detection on no object,
// or an object no detection of its category found).
type ConfusionCell struct {
	Run                   string  `parquet:"run"`
	IoUType               string  `parquet:"iou_type"`
	ScoreThreshold        float64 `parquet:"score_threshold"`
	IoUThreshold          float64 `parquet:"iou_threshold"`
	GroundTruthID         int64   `parquet:"ground_truth_id"`
	GroundTruth           string  `parquet:"ground_truth"`
	PredictedID           int64   `parquet:"predicted_id"`
	Predicted             string  `parquet:"predicted"`
	Count                 int64   `parquet:"count"`
	FractionOfGroundTruth float64 `parquet:"fraction_of_ground_truth"` // count over its row's sum; 0 for an empty row
}
