package zoo

import (
	"slices"
	"testing"
)

// TestRegistryIsConsistent checks what every entry must have; the checks
// that need the embedded configs live in configs.
func TestRegistryIsConsistent(t *testing.T) {
	order := []string{StageDataset, StageProposals, StageRecords, StageTrain, StageEvaluate}
	seen := map[string]bool{}
	for _, p := range Pipelines() {
		if seen[p.Name] {
			t.Errorf("pipeline %q registered twice", p.Name)
		}
		seen[p.Name] = true
		if _, ok := LookupModel(p.Model); !ok {
			t.Errorf("pipeline %q: unknown model type %q", p.Name, p.Model)
		}
		if p.Doc == "" || p.Config == "" || len(p.Zoo) == 0 || len(p.Evals) == 0 {
			t.Errorf("pipeline %q: wants a doc line, a default config, model-zoo configs and evaluation types", p.Name)
		}
		last := -1
		for _, s := range p.Stages {
			i := slices.Index(order, s)
			if i <= last {
				t.Errorf("pipeline %q: stage %q unknown or out of order in %v", p.Name, s, p.Stages)
			}
			last = i
		}
	}
	for _, m := range Models() {
		if m.Title == "" || len(m.Figures) == 0 {
			t.Errorf("model %q: wants a zoo title and figure columns", m.Type)
		}
	}
}

func TestLookupPipelineNamesTheChoices(t *testing.T) {
	_, err := LookupPipeline("fast_rcnn")
	if err == nil || err.Error() != `unknown pipeline "fast_rcnn" (pipelines: fast_mask_rcnn_with_proposals, fast_rcnn_with_proposals, faster_rcnn, mask_rcnn, retinanet, rpn)` {
		t.Errorf("LookupPipeline: %v", err)
	}
}
