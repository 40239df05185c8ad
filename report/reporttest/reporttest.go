// Package reporttest builds small work directories for tests of package
// report, package query and the CLI: run folders laid out exactly as the
// orchestrator publishes them (run.json, the resolved config.yaml, one
// folder per stage with its Parquet tables and a _MANIFEST.json written
// last), with deterministic values.
package reporttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/rundir"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// Epoch is the fixed time fixtures start from, so outputs are stable.
var Epoch = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)

// Run describes a run folder to write.
type Run struct {
	Name     string
	Pipeline string
	Config   string // an embedded config name; its resolved YAML is saved
	Sets     []string
	Stages   []Stage
}

// Stage is one published stage folder: the tables it holds.
type Stage struct {
	Name     string
	Metrics  []schemas.Metric      // written to metrics.parquet when not nil
	TrainLog []schemas.TrainLogRow // written to train_log.parquet when not nil
	// Extra are files written as they are, e.g. a table of an old version.
	Extra map[string][]byte
}

// WriteRun writes r below workdir as the orchestrator would publish it.
func WriteRun(t testing.TB, fsys *storage.FS, workdir string, r Run) {
	t.Helper()
	dir := storage.Join(workdir, r.Name)
	cfg, err := configs.Load(r.Config, r.Sets)
	if err != nil {
		t.Fatalf("load config %s: %v", r.Config, err)
	}
	y, err := cfg.YAML()
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, fsys, storage.Join(dir, "config.yaml"), y)
	info := rundir.Info{
		Run: r.Name, Pipeline: r.Pipeline, Config: cfg.Name,
		Created: Epoch, Updated: Epoch.Add(time.Duration(len(r.Stages)) * time.Minute),
		Command: []string{"pipeline", "run", r.Pipeline, "--run", r.Name},
		Detflow: "test", Stages: map[string]rundir.StageRecord{},
	}
	for i, st := range r.Stages {
		m := writeStage(t, fsys, storage.Join(dir, st.Name), st, Epoch.Add(time.Duration(i)*time.Minute))
		info.Stages[st.Name] = rundir.StageRecord{Finished: m.Finished, Seconds: m.Seconds, Digest: m.Digest}
	}
	mustWriteJSON(t, fsys, storage.Join(dir, "run.json"), info)
}

func writeStage(t testing.TB, fsys *storage.FS, dir string, st Stage, started time.Time) rundir.Manifest {
	t.Helper()
	ctx := context.Background()
	files := map[string][]byte{}
	if st.Metrics != nil {
		files["metrics.parquet"] = encode(t, schemas.Metrics, st.Metrics)
	}
	if st.TrainLog != nil {
		files["train_log.parquet"] = encode(t, schemas.TrainLog, st.TrainLog)
	}
	for name, b := range st.Extra {
		files[name] = b
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	m := rundir.Manifest{
		Stage: st.Name, Version: 1, Fingerprint: fmt.Sprintf("%064x", len(names)),
		Config: map[string]string{}, Inputs: map[string]string{},
		Started: started, Finished: started.Add(30 * time.Second), Seconds: 30, Detflow: "test",
	}
	for _, name := range names {
		d, err := fsys.WriteFile(ctx, storage.Join(dir, name), files[name])
		if err != nil {
			t.Fatal(err)
		}
		m.Outputs = append(m.Outputs, rundir.Output{Path: name, Size: d.Size, SHA256: d.SHA256})
	}
	m.Digest = fmt.Sprintf("%064x", len(m.Outputs)+1)
	mustWriteJSON(t, fsys, storage.Join(dir, rundir.ManifestName), m)
	return m
}

// encode returns rows as a Parquet file of table t.
func encode[T any](t testing.TB, table schemas.Table, rows []T) []byte {
	t.Helper()
	b, err := EncodeTable(table, rows)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// EncodeTable returns rows as the bytes of a Parquet file of table t, e.g.
// with a changed Version to make a table of an older schema.
func EncodeTable[T any](table schemas.Table, rows []T) ([]byte, error) {
	var buf bytes.Buffer
	if err := schemas.Encode(&buf, table, rows); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func mustWrite(t testing.TB, fsys *storage.FS, p string, b []byte) {
	t.Helper()
	if _, err := fsys.WriteFile(context.Background(), p, b); err != nil {
		t.Fatal(err)
	}
}

func mustWriteJSON(t testing.TB, fsys *storage.FS, p string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, fsys, p, append(b, '\n'))
}

// Golden compares got with testdata/name; with rewrite (a test's -golden
// flag) it writes got there instead.
func Golden(t testing.TB, rewrite bool, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if rewrite {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read golden (run with -golden to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
