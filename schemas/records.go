package schemas

// Records is the training/evaluation records table: one row per image, with
// the encoded image as stored, its ground truth and its proposals. The
// records stage writes it as shuffled shards; the trainer and the evaluator
// stream it.
var Records = Table{Name: "records", Version: 1}

// Record is one image. Boxes are flat lists of xyxy pixel coordinates, four
// values per box (no +1 convention); per-box lists are aligned by index.
type Record struct {
	ImageID  int64  `parquet:"image_id"`
	FileName string `parquet:"file_name"`
	Width    int32  `parquet:"width"`
	Height   int32  `parquet:"height"`
	Image    []byte `parquet:"image"` // encoded bytes exactly as in the data set (JPEG or PNG)

	GTBoxes       []float32 `parquet:"gt_boxes,list"`
	GTLabels      []int32   `parquet:"gt_labels,list"` // contiguous 0..K-1, in category id order
	GTCategoryIDs []int64   `parquet:"gt_category_ids,list"`
	GTCrowd       []bool    `parquet:"gt_crowd,list"`
	// GTMasks holds one instance mask per box, aligned with GTBoxes: the
	// Height x Width mask as pycocotools' compressed RLE string (polygons
	// rasterised as annToRLE does). Empty when the records carry no masks:
	// a box-only model's, or records written before the column existed
	// (a reader fills a column the file lacks with empty lists).
	GTMasks []string `parquet:"gt_masks,list"`

	ProposalBoxes  []float32 `parquet:"proposal_boxes,list"`
	ProposalScores []float32 `parquet:"proposal_scores,list"`
}
