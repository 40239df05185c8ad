package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/schemas"
)

func TestSummaryPrintsSegmStatsAsBBox(t *testing.T) {
	var rows []schemas.Metric
	for _, kind := range []string{"segm", "bbox"} {
		for i, name := range []string{"mAP", "mAP_50", "mAP_75", "mAP_s", "mAP_m", "mAP_l", "AR_1", "AR_10", "AR_100", "AR_s", "AR_m", "AR_l"} {
			rows = append(rows, schemas.Metric{Stage: "evaluate", Dataset: "synthetic/val", IoUType: kind,
				Metric: kind + "_" + name, Value: 0.01*float64(i) + 0.123456})
		}
	}
	var b bytes.Buffer
	if err := report.WriteSummary(&b, &report.Run{Name: "m"}, rows); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	bbox, segm := strings.Index(out, "\nbbox (stage evaluate"), strings.Index(out, "\nsegm (stage evaluate")
	if bbox < 0 || segm < bbox {
		t.Fatalf("want the bbox block, then the segm block:\n%s", out)
	}
	want := " Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.233\n"
	if strings.Count(out, want) != 2 || strings.Contains(out, "segm_mAP") {
		t.Errorf("segm stats not in pycocotools' layout:\n%s", out)
	}
}
