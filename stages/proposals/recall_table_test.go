package proposals

import (
	"testing"

	"github.com/detflow/detflow/coco"
)

func TestRecallTableAlignsNamesOverValues(t *testing.T) {
	got := recallTable([]coco.Metric{{Name: "AR@100", Value: 0.7115384615384616}, {Name: "AR_s@1000", Value: 1}})
	want := "AR@100  AR_s@1000\n0.7115  1.0000"
	if got != want {
		t.Errorf("recallTable =\n%s\nwant\n%s", got, want)
	}
}
