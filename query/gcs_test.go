//go:build cgo

package query_test

import (
	"context"
	"testing"

	"github.com/detflow/detflow/query"
	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/report/reporttest"
	"github.com/detflow/detflow/storage/storagetest"
)

// TestQueryOnGCS queries a gs:// work directory on an in-process fake GCS
// server: its tables are copied through storage and read locally.
func TestQueryOnGCS(t *testing.T) {
	ctx := context.Background()
	fsys := storagetest.FakeGCS(t, "exp")
	reporttest.WriteZoo(t, fsys, "gs://exp/runs")
	tab, err := query.Run(ctx, fsys, "gs://exp/runs",
		"select run, count(*) as n from metrics group by run order by run")
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"fast_rcnn_tiny_synth", "58"}, {"faster_rcnn_r50_fpn_1x", "18"}, {"rpn_r50_fpn_1x", "9"}}
	if len(tab.Rows) != len(want) {
		t.Fatalf("rows %v, want %v", tab.Rows, want)
	}
	for i, w := range want {
		if got := [2]string{report.Cell(tab.Rows[i][0]), report.Cell(tab.Rows[i][1])}; got != w {
			t.Errorf("row %d = %v, want %v", i, got, w)
		}
	}
}
