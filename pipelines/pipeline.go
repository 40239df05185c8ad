// Package pipelines runs named pipelines: DAGs of stages whose outputs are
// fingerprinted, skipped when up to date and published atomically.
package pipelines

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/stages/evaluate"
	"github.com/detflow/detflow/stages/proposals"
	"github.com/detflow/detflow/stages/records"
	"github.com/detflow/detflow/stages/train"
	"github.com/detflow/detflow/zoo"
)

// Pipeline is a named list of stages in a valid execution order: every
// stage's inputs come before it.
type Pipeline struct {
	Name   string
	Doc    string
	Stages []stages.Stage
}

// New checks that stages form a DAG in execution order with unique names.
func New(name, doc string, ss ...stages.Stage) (*Pipeline, error) {
	seen := map[string]bool{}
	for _, s := range ss {
		if seen[s.Name()] {
			return nil, fmt.Errorf("pipeline %q: stage %q listed twice", name, s.Name())
		}
		for _, in := range s.Inputs() {
			if !seen[in] {
				return nil, fmt.Errorf("pipeline %q: stage %q reads %q, which does not come before it", name, s.Name(), in)
			}
		}
		seen[s.Name()] = true
	}
	return &Pipeline{Name: name, Doc: doc, Stages: ss}, nil
}

func mustNew(name, doc string, ss ...stages.Stage) *Pipeline {
	p, err := New(name, doc, ss...)
	if err != nil {
		panic(err)
	}
	return p
}

// StageNames lists the pipeline's stages in order.
func (p *Pipeline) StageNames() []string {
	names := make([]string, len(p.Stages))
	for i, s := range p.Stages {
		names[i] = s.Name()
	}
	return names
}

// selectStages resolves --stages and --from into the stages to run and the
// stages to rerun even when up to date.
func (p *Pipeline) selectStages(sel Selection) (selected, forced map[string]bool, err error) {
	selected, forced = map[string]bool{}, map[string]bool{}
	if len(sel.Stages) > 0 && sel.From != "" {
		return nil, nil, fmt.Errorf("use either --stages or --from, not both")
	}
	names := p.StageNames()
	check := func(flag, n string) error {
		if !slices.Contains(names, n) {
			return fmt.Errorf("%s: pipeline %q has no stage %q (stages: %s)", flag, p.Name, n, strings.Join(names, ", "))
		}
		return nil
	}
	switch {
	case len(sel.Stages) > 0:
		for _, n := range sel.Stages {
			if err := check("--stages", n); err != nil {
				return nil, nil, err
			}
			selected[n] = true
		}
	case sel.From != "":
		if err := check("--from", sel.From); err != nil {
			return nil, nil, err
		}
		selected[sel.From], forced[sel.From] = true, true
		for _, s := range p.Stages { // stages are in order: one pass finds all downstream
			for _, in := range s.Inputs() {
				if selected[in] {
					selected[s.Name()] = true
				}
			}
		}
	default:
		for _, n := range names {
			selected[n] = true
		}
	}
	if sel.Force {
		for n := range selected {
			forced[n] = true
		}
	}
	return selected, forced, nil
}

// Registry maps pipeline names to pipelines.
type Registry map[string]*Pipeline

// Lookup finds a pipeline by name, or says which exist.
func (r Registry) Lookup(name string) (*Pipeline, error) {
	if p, ok := r[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("unknown pipeline %q (pipelines: %s)", name, strings.Join(r.Names(), ", "))
}

// Names lists the registered pipelines, sorted.
func (r Registry) Names() []string {
	var names []string
	for n := range r {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Builtin returns the registry's pipelines (package zoo), each stage name
// bound to its implementation.
func Builtin() Registry {
	r := Registry{}
	for _, zp := range zoo.Pipelines() {
		ss := make([]stages.Stage, len(zp.Stages))
		for i, name := range zp.Stages {
			ss[i] = stageOf(name, zp)
		}
		r[zp.Name] = mustNew(zp.Name, zp.Doc, ss...)
	}
	return r
}

// stageOf is the implementation of a registry stage name in pipeline p.
// zoo's tests keep stage names to the five below.
func stageOf(name string, p zoo.Pipeline) stages.Stage {
	switch name {
	case zoo.StageDataset:
		return dataset.Stage{RequireMasks: zoo.HasMasks(p.Model)}
	case zoo.StageProposals:
		return proposals.Stage{}
	case zoo.StageRecords:
		return records.Stage{WithProposals: p.Has(zoo.StageProposals), WithMasks: zoo.HasMasks(p.Model)}
	case zoo.StageTrain:
		return train.Stage{Models: detectorModels, Weights: loadWeights}
	case zoo.StageEvaluate:
		return evaluate.Stage{Load: loadDetector}
	}
	panic(fmt.Sprintf("pipelines: pipeline %q: registry stage %q has no implementation", p.Name, name))
}
