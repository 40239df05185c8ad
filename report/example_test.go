package report_test

import (
	"os"

	"github.com/detflow/detflow/report"
)

func ExampleTable_Write() {
	t := &report.Table{
		Columns: []string{"run", "bbox_mAP"},
		Rows:    [][]any{{"fast_rcnn_tiny_synth", 0.141}, {"faster_rcnn_r50_fpn_1x", nil}},
		Null:    "-",
	}
	t.Write(os.Stdout, report.FormatTable)
	t.Write(os.Stdout, report.FormatMarkdown)
	// Output:
	// run                     bbox_mAP
	// ----------------------  --------
	// fast_rcnn_tiny_synth       0.141
	// faster_rcnn_r50_fpn_1x         -
	// (2 rows)
	// | run | bbox_mAP |
	// |---|---:|
	// | fast_rcnn_tiny_synth | 0.141 |
	// | faster_rcnn_r50_fpn_1x | - |
}
