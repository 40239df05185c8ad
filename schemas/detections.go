package schemas

// Detections is the detections table the evaluate stage writes: one row per
// detected box (or per proposal, for iou type "proposal") of the evaluated
// split, in the order of the stage's COCO results file.
var Detections = Table{Name: "detections", Version: 1}

// Detection is one row of the detections table. The box is COCO's
// [x, y, w, h] in pixels of the original image (no +1: w = x2 - x1), as in
// the results JSON; Label is the model's contiguous class (0..K-1) and
// CategoryID the COCO category it maps to. A model with a mask head gives
// each detection its instance mask in the original image's frame: Mask is
// pycocotools' compressed RLE string of a MaskHeight x MaskWidth mask, as
// results.segm.json carries it; the three are null for box-only models and
// proposals (so SQL counts masks with count(mask)). The columns were added
// within version 1: older files lack them and read as null.
type Detection struct {
	ImageID    int64   `parquet:"image_id"`
	CategoryID int64   `parquet:"category_id"`
	Label      int32   `parquet:"label"`
	Score      float32 `parquet:"score"`
	X          float32 `parquet:"x"`
	Y          float32 `parquet:"y"`
	W          float32 `parquet:"w"`
	H          float32 `parquet:"h"`
	IoUType    string  `parquet:"iou_type"`   // "bbox", "segm" or "proposal"
	Checkpoint string  `parquet:"checkpoint"` // the weights that produced it, e.g. "epoch_12.safetensors"
	Mask       string  `parquet:"mask,optional"`
	MaskHeight int32   `parquet:"mask_height,optional"`
	MaskWidth  int32   `parquet:"mask_width,optional"`
}
