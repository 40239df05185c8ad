package train

import (
	"testing"

	"github.com/detflow/detflow/schemas"
)

func TestCloneRecordOwnsTheMasks(t *testing.T) {
	r := &schemas.Record{GTLabels: []int32{1, 2}, GTMasks: []string{"04", "13"}}
	c := cloneRecord(r)
	r.GTMasks[0], r.GTLabels[0] = "reused", 9 // the reader refills its buffers
	if c.GTMasks[0] != "04" || c.GTMasks[1] != "13" || c.GTLabels[0] != 1 {
		t.Errorf("clone changed with the reader's buffers: %+v", c)
	}
	if cloneRecord(&schemas.Record{}).GTMasks != nil {
		t.Error("a record without masks cloned to non-nil masks")
	}
}
