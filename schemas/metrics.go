package schemas

import "time"

// Metrics is the metrics table: one row per measured value. Every stage that
// measures something (proposal recall, COCO bbox stats, speed, memory)
// appends rows of this type.
var Metrics = Table{Name: "metrics", Version: 1}

// Metric is one row of the metrics table.
type Metric struct {
	Run        string    `parquet:"run"`
	Pipeline   string    `parquet:"pipeline"`
	Stage      string    `parquet:"stage"`
	Checkpoint string    `parquet:"checkpoint"` // the weights measured, "" if none
	Dataset    string    `parquet:"dataset"`    // e.g. "synthetic/val" or a file name
	IoUType    string    `parquet:"iou_type"`   // "bbox", "proposal", or "" for speed/memory
	Metric     string    `parquet:"metric"`     // e.g. "bbox_mAP", "AR@1000", "train_s_per_iter"
	Value      float64   `parquet:"value"`
	Created    time.Time `parquet:"created,timestamp(millisecond)"`
}
