package pipelines

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/detflow/detflow/stages"
)

func failOnTwoFn(x int) (int, error) {
	if x == 2 {
		return 0, fmt.Errorf("decode image %q: unexpected EOF", "train2017/2.jpg")
	}
	return x, nil
}

func init() { register.Function1x2(failOnTwoFn) }

// failingBeamStage fails inside a DoFn, as a truncated image did.
type failingBeamStage struct{ beamStage }

func (failingBeamStage) Run(ctx context.Context, env *stages.Env) error {
	p, s := beam.NewPipelineWithRoot()
	beam.ParDo(s, failOnTwoFn, beam.Create(s, 1, 2, 3))
	if err := beamx.Run(ctx, p); err != nil {
		return fmt.Errorf("beam stage: %w", err)
	}
	return nil
}

func TestBeamStageErrorNamesTheCauseFirst(t *testing.T) {
	p, err := New("beam_only", "", failingBeamStage{})
	if err != nil {
		t.Fatal(err)
	}
	for _, verbose := range []bool{false, true} {
		work := t.TempDir()
		opts := testOptions(work)
		opts.Verbose = verbose
		_, err := Execute(context.Background(), newFS(t), p, loadConfig(t), opts)
		if err == nil {
			t.Fatal("failing DoFn: no error")
		}
		first, _, _ := strings.Cut(err.Error(), "\n")
		if want := `stage "beam": beam stage: decode image "train2017/2.jpg": unexpected EOF`; !verbose && !strings.HasPrefix(first, want) {
			t.Errorf("first line %q, want it to start %q", first, want)
		}
		if got := strings.Contains(err.Error(), "ParDo["); got != verbose {
			t.Errorf("verbose %v: plan in the message %v:\n%s", verbose, got, err)
		}
		log, _ := os.ReadFile(filepath.Join(work, "r1", "logs", "beam.log"))
		if !strings.Contains(string(log), "ParDo[") {
			t.Errorf("verbose %v: stage log lacks the plan", verbose)
		}
	}
}
