package pipelines

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/rundir"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/storage"
)

// Action is what a run will do with a stage.
type Action int

const (
	UpToDate     Action = iota // published outputs match: skipped
	WillRun                    // selected and out of date (or forced)
	OutOfDate                  // out of date but not selected in this run
	MissingInput               // selected, but an unselected input is out of date
)

func (a Action) String() string {
	return [...]string{"up to date", "will run", "out of date", "missing input"}[a]
}

// Step is one stage's entry in a plan.
type Step struct {
	Stage    stages.Stage
	Selected bool
	Forced   bool
	Action   Action
	Reasons  []string                   // why the stage will run, is out of date or blocked
	Config   map[string]string          // current values of the config keys it reads
	External map[string]rundir.External // current digests of the files outside the run it reads
	Manifest *rundir.Manifest           // the published manifest, if any
	Dir      string                     // where its outputs are published
	// Inputs are the stage's inputs this run reads: Stage.Inputs less the
	// optional ones (stages.OptionalInputs) that are not available.
	Inputs []string
}

// Plan says what a run of a pipeline would do, stage by stage.
type Plan struct {
	Pipeline *Pipeline
	Run      string
	RunDir   string
	Steps    []*Step
	cache    *fileCache // digests of external inputs by stat
}

// Step returns the step of the named stage, or nil.
func (p *Plan) Step(name string) *Step {
	for _, s := range p.Steps {
		if s.Stage.Name() == name {
			return s
		}
	}
	return nil
}

// Selection picks the stages a run executes.
type Selection struct {
	Stages []string // only these (run if out of date)
	From   string   // this stage (forced) and everything downstream of it
	Force  bool     // rerun selected stages even when up to date
	Verify bool     // check output hashes, not only sizes
}

// MakePlan works out what running p with cfg in runDir would do.
func MakePlan(ctx context.Context, fsys *storage.FS, p *Pipeline, cfg *configs.Config, runDir string, sel Selection) (*Plan, error) {
	selected, forced, err := p.selectStages(sel)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Pipeline: p, RunDir: runDir, cache: openFileCache(cacheDir(runDir), sel.Verify)}
	// Saving only spares the next plan rehashing: a read-only work folder
	// must not stop a dry run.
	defer func() { _ = plan.cache.save() }()
	for _, st := range p.Stages {
		step := &Step{Stage: st, Selected: selected[st.Name()], Forced: forced[st.Name()], Dir: storage.Join(runDir, st.Name())}
		plan.Steps = append(plan.Steps, step)
		if step.Config, err = stageConfig(cfg, st); err != nil {
			return nil, fmt.Errorf("plan stage %q: %w", st.Name(), err)
		}
		if step.External, err = externals(ctx, fsys, plan.cache, st, cfg); err != nil {
			return nil, fmt.Errorf("plan stage %q: %w", st.Name(), err)
		}
		if step.Manifest, err = rundir.ReadManifest(ctx, fsys, step.Dir); err != nil {
			return nil, fmt.Errorf("plan stage %q: %w", st.Name(), err)
		}
		step.Inputs = usedInputs(plan, st, cfg)
		if step.Reasons, err = staleness(ctx, fsys, plan, step, sel.Verify); err != nil {
			return nil, fmt.Errorf("plan stage %q: %w", st.Name(), err)
		}
		switch {
		case step.Selected && step.Forced:
			step.Action = WillRun
			step.Reasons = append([]string{"forced"}, step.Reasons...)
		case step.Selected && len(step.Reasons) > 0:
			step.Action = WillRun
		case len(step.Reasons) > 0:
			step.Action = OutOfDate
		default:
			step.Action = UpToDate
		}
	}
	plan.markMissingInputs()
	return plan, nil
}

// usedInputs is st's inputs less the optional ones whose stage is neither
// up to date nor going to run. Upstream steps must already be planned.
func usedInputs(plan *Plan, st stages.Stage, cfg *configs.Config) []string {
	o, ok := st.(stages.OptionalInputs)
	if !ok {
		return st.Inputs()
	}
	optional := o.OptionalInputs(cfg)
	var used []string
	for _, in := range st.Inputs() {
		up := plan.Step(in)
		if up != nil && up.Action != UpToDate && up.Action != WillRun && slices.Contains(optional, in) {
			continue
		}
		used = append(used, in)
	}
	return used
}

// staleness lists why step's published outputs are out of date; none means
// up to date. Upstream steps must already be planned.
func staleness(ctx context.Context, fsys *storage.FS, plan *Plan, step *Step, verify bool) ([]string, error) {
	m := step.Manifest
	if m == nil {
		return []string{"never run (no manifest)"}, nil
	}
	var reasons []string
	if v := step.Stage.Version(); m.Version != v {
		reasons = append(reasons, fmt.Sprintf("stage version changed (%d -> %d)", m.Version, v))
	}
	reasons = append(reasons, configChanges(m.Config, step.Config)...)
	reasons = append(reasons, externalChanges(plan.cache, m, step.External)...)
	for in := range m.Inputs {
		if !slices.Contains(step.Inputs, in) {
			reasons = append(reasons, fmt.Sprintf("input %s no longer read", in))
		}
	}
	for _, in := range step.Inputs {
		up := plan.Step(in)
		switch {
		case up == nil:
			return nil, fmt.Errorf("input stage %q is not in the pipeline", in)
		case up.Action == WillRun:
			reasons = append(reasons, fmt.Sprintf("input %s will be rebuilt", in))
		case up.Manifest == nil:
			reasons = append(reasons, fmt.Sprintf("input %s has no outputs", in))
		case up.Manifest.Digest != m.Inputs[in]:
			reasons = append(reasons, fmt.Sprintf("input %s changed", in))
		}
	}
	missing, err := checkOutputs(ctx, fsys, step.Dir, m, verify)
	if err != nil {
		return nil, err
	}
	if missing != "" {
		reasons = append(reasons, missing)
	}
	return reasons, nil
}

// configChanges describes the differences between the recorded and current
// values of a stage's config keys, at most a handful, sorted by key.
func configChanges(old, cur map[string]string) []string {
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range cur {
		keys[k] = true
	}
	var changed []string
	for k := range keys {
		o, inOld := old[k]
		c, inCur := cur[k]
		switch {
		case !inOld:
			changed = append(changed, fmt.Sprintf("config key %s added (%s)", k, c))
		case !inCur:
			changed = append(changed, fmt.Sprintf("config key %s removed (was %s)", k, o))
		case o != c:
			changed = append(changed, fmt.Sprintf("config key %s changed (%s -> %s)", k, o, c))
		}
	}
	sort.Strings(changed)
	const most = 5
	if len(changed) > most {
		changed = append(changed[:most], fmt.Sprintf("and %d more config changes", len(changed)-most))
	}
	return changed
}

// markMissingInputs blocks selected stages whose inputs will not be
// available, naming the earliest out-of-date stage that must run first.
func (p *Plan) markMissingInputs() {
	for _, step := range p.Steps {
		if !step.Selected {
			continue
		}
		if first := p.firstUnavailableAncestor(step); first != nil {
			step.Action = MissingInput
			why := "out of date"
			if len(first.Reasons) > 0 {
				why = first.Reasons[0]
			}
			step.Reasons = []string{fmt.Sprintf("needs stage %q, which is %s (%s): run %q first (pipeline run %s --stages %s, or --from %s)",
				first.Stage.Name(), first.Action, why, first.Stage.Name(), p.Pipeline.Name, first.Stage.Name(), first.Stage.Name())}
		}
	}
}

// firstUnavailableAncestor returns the earliest (in pipeline order) upstream
// step of step that is neither up to date nor going to run.
func (p *Plan) firstUnavailableAncestor(step *Step) *Step {
	bad := map[string]bool{}
	var visit func(s *Step)
	visit = func(s *Step) {
		for _, in := range s.Inputs {
			up := p.Step(in)
			if up == nil || bad[in] {
				continue
			}
			if up.Action != UpToDate && up.Action != WillRun {
				bad[in] = true
			}
			visit(up)
		}
	}
	visit(step)
	for _, s := range p.Steps {
		if bad[s.Stage.Name()] {
			return s
		}
	}
	return nil
}

// Blocked returns an error describing the first selected stage that cannot
// run because of a missing input, or nil.
func (p *Plan) Blocked() error {
	for _, s := range p.Steps {
		if s.Action == MissingInput {
			return fmt.Errorf("stage %q %s", s.Stage.Name(), strings.Join(s.Reasons, "; "))
		}
	}
	return nil
}

// stageConfig returns the values of the config keys st reads.
func stageConfig(cfg *configs.Config, st stages.Stage) (map[string]string, error) {
	keys := st.ConfigKeys()
	if len(keys) == 0 {
		return map[string]string{}, nil // Values() of no prefix means every key
	}
	return cfg.Values(keys...)
}
