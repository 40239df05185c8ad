package stages

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// jobText is prism's error for a DoFn failure (Beam 2.77), as beamx.Run
// returns it.
const jobText = `job job-001 failed:
bundle inst001 stage-001 failed:process bundle failed for instruction inst001 using plan stage-001 : while executing Process for Plan[stage-001]:
1: DataSource[S[stage-001_source@localhost:34231], i0] Out:6 Coder:W;cwv_n1<bytes;c0>!GWC 
6: ParDo[beam.createFn] Out:[5] Sig: func([]uint8, func(typex.T)) error, SideInputs: []
5: PCollection[n2] Out:[4]
4: ParDo[proposals.searchFn] Out:[3] Sig: func(int) (int, error), SideInputs: []
3: PCollection[n3] Out:[2]
2: Discard
	caused by:
DoFn[UID:4, PID:e3, Name: github.com/detflow/detflow/stages/proposals.searchFn] failed:
selective search: image "train2017/000000000002.jpg": unexpected EOF`

func TestBeamErrorPutsTheCauseFirst(t *testing.T) {
	err := CondenseBeamError(fmt.Errorf("proposals: split %q: %w", "val", errors.New(jobText)))
	var be *BeamError
	if !errors.As(err, &be) {
		t.Fatalf("%T, want *BeamError", err)
	}
	first := strings.SplitN(err.Error(), "\n", 2)[0]
	want := `proposals: split "val": selective search: image "train2017/000000000002.jpg": unexpected EOF (in Beam transform proposals.searchFn; --verbose or the stage log shows the Beam plan)`
	if first != want || strings.Contains(err.Error(), "\n") {
		t.Errorf("message\n%s\nwant one line\n%s", err, want)
	}
	if !strings.Contains(be.Plan, "ParDo[beam.createFn]") {
		t.Errorf("plan lost: %q", be.Plan)
	}
	plain := errors.New("records: shard 3: disk full")
	if CondenseBeamError(plain) != plain {
		t.Error("a non-Beam error was changed")
	}
}
