package schemas

// TrainLog is the training log table: one row per logging interval, the same
// values as the JSON log lines.
var TrainLog = Table{Name: "train_log", Version: 1}

// TrainLogRow is one logging interval of a training run.
type TrainLogRow struct {
	Run      string      `parquet:"run" json:"-"`
	Epoch    int32       `parquet:"epoch" json:"epoch"` // 1-based, as MMDetection logs
	Iter     int32       `parquet:"iter" json:"iter"`   // 1-based within the epoch
	Step     int64       `parquet:"step" json:"step"`   // global iterations done
	LR       float64     `parquet:"lr" json:"lr"`
	Time     float64     `parquet:"time" json:"time"`           // seconds per iteration, averaged over the interval
	DataTime float64     `parquet:"data_time" json:"data_time"` // seconds per iteration waiting for data
	MemoryMB int64       `parquet:"memory" json:"memory"`       // peak resident memory so far, MiB
	Loss     float64     `parquet:"loss" json:"loss"`           // sum of the named losses
	GradNorm float64     `parquet:"grad_norm" json:"grad_norm"` // global gradient norm before clipping
	Losses   []LossValue `parquet:"losses,list" json:"-"`       // every loss the model returned, by name
	// The columns below came later; older files read them as zero values.
	Precision    string  `parquet:"precision" json:"precision"`         // train.precision: fp32, tf32, fp16 or bf16
	LossScale    float64 `parquet:"loss_scale" json:"loss_scale"`       // fp16's loss scale at the interval's end; 0 unscaled
	SkippedSteps int32   `parquet:"skipped_steps" json:"skipped_steps"` // steps the loss scaler skipped (gradient overflow)
}

// LossValue is one named loss: loss_cls, loss_rpn_bbox or whatever name a
// model returns.
type LossValue struct {
	Name  string  `parquet:"name"`
	Value float64 `parquet:"value"`
}
