package pipelines

import (
	"context"
	"fmt"

	"github.com/detflow/detflow/rundir"
	"github.com/detflow/detflow/storage"
)

// RunStatus is what is published for one run.
type RunStatus struct {
	Info   *rundir.Info
	Stages []StageStatus
}

// StageStatus is one stage's published state.
type StageStatus struct {
	Name     string
	State    string // "published", "outputs changed: ...", "not run"
	Manifest *rundir.Manifest
}

// ListRuns reads every run folder (one with a run.json) in workdir.
func ListRuns(ctx context.Context, fsys *storage.FS, workdir string) ([]RunStatus, error) {
	entries, err := fsys.List(ctx, workdir)
	if err != nil {
		return nil, fmt.Errorf("list runs in %s: %w", workdir, err)
	}
	reg := Builtin()
	var runs []RunStatus
	for _, e := range entries {
		if !e.IsDir {
			continue
		}
		dir := storage.Join(workdir, e.Name)
		info, err := rundir.ReadInfo(ctx, fsys, dir)
		if err != nil {
			continue // not a run folder
		}
		rs := RunStatus{Info: info}
		p, err := reg.Lookup(info.Pipeline)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", e.Name, err)
		}
		for _, st := range p.Stages {
			ss, err := stageStatus(ctx, fsys, dir, st.Name())
			if err != nil {
				return nil, fmt.Errorf("run %s: %w", e.Name, err)
			}
			rs.Stages = append(rs.Stages, ss)
		}
		runs = append(runs, rs)
	}
	return runs, nil
}

func stageStatus(ctx context.Context, fsys *storage.FS, runDir, name string) (StageStatus, error) {
	dir := storage.Join(runDir, name)
	m, err := rundir.ReadManifest(ctx, fsys, dir)
	if err != nil {
		return StageStatus{}, err
	}
	if m == nil {
		return StageStatus{Name: name, State: "not run"}, nil
	}
	why, err := checkOutputs(ctx, fsys, dir, m, false)
	if err != nil {
		return StageStatus{}, err
	}
	state := "published"
	if why != "" {
		state = why
	}
	return StageStatus{Name: name, State: state, Manifest: m}, nil
}
