// Package rundir holds the types of a run folder as the orchestrator writes
// it and the readers (report, query, the CLI's status) read it:
//
//	runs/<run>/run.json              Info
//	runs/<run>/config.yaml           the resolved config
//	runs/<run>/<stage>/_MANIFEST.json Manifest, written last
//
// It is a leaf: reading a run folder links neither Beam, the detector nor
// the GPU backend.
package rundir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/detflow/detflow/storage"
)

// ManifestName is the file that marks a stage's outputs as complete. It is
// always written last, so its presence means every output it lists is there.
const ManifestName = "_MANIFEST.json"

// InfoName is the run's description, in the run folder.
const InfoName = "run.json"

// ConfigName is the run's resolved config, in the run folder.
const ConfigName = "config.yaml"

// Manifest records what a published stage was computed from and what it wrote.
type Manifest struct {
	Stage       string            `json:"stage"`
	Version     int               `json:"version"`
	Fingerprint string            `json:"fingerprint"`
	Config      map[string]string `json:"config"` // the config keys the stage read
	Inputs      map[string]string `json:"inputs"` // upstream stage -> its outputs digest
	// External records the files and folders outside the run that the stage
	// read, by the config key naming them. Absent in manifests of older
	// versions, which therefore count as stale for stages that read any.
	External map[string]External `json:"external,omitempty"`
	Outputs  []Output            `json:"outputs"`
	// Digest is what downstream stages fingerprint: of Outputs, and of
	// External when there is any (a stage that only validates images in
	// place publishes the same outputs when an image changes).
	Digest   string    `json:"digest"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Seconds  float64   `json:"seconds"`
	Detflow  string    `json:"detflow_version"`
	// PeakRSSMiB is the process's peak resident set when the stage ended
	// (0: not measured); it includes earlier stages of the same process.
	PeakRSSMiB int64          `json:"peak_rss_mib,omitempty"`
	Info       map[string]any `json:"info,omitempty"` // what the stage recorded (stages.Env.Info)
}

// External is one file or folder outside the run, as a stage read it.
type External struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"` // of the file, or of the folder's (path, size, sha256) list
	Size   int64  `json:"size"`   // bytes, all files of a folder together
	Files  int    `json:"files"`  // 1 for a file
	Dir    bool   `json:"dir,omitempty"`
}

// Output is one published file, relative to the stage folder.
type Output struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Info is runs/<run>/run.json: what the run is and where each stage stands.
type Info struct {
	Run      string                 `json:"run"`
	Pipeline string                 `json:"pipeline"`
	Config   string                 `json:"config"`
	Created  time.Time              `json:"created"`
	Updated  time.Time              `json:"updated"`
	Command  []string               `json:"command"`
	Detflow  string                 `json:"detflow_version"`
	Stages   map[string]StageRecord `json:"stages"`
}

// StageRecord records a stage's last successful run.
type StageRecord struct {
	Finished time.Time `json:"finished"`
	Seconds  float64   `json:"seconds"`
	Digest   string    `json:"digest"`
}

// ReadInfo reads a run's run.json.
func ReadInfo(ctx context.Context, fsys *storage.FS, runDir string) (*Info, error) {
	p := storage.Join(runDir, InfoName)
	b, err := fsys.ReadFile(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("read run info: %w", err)
	}
	var ri Info
	if err := json.Unmarshal(b, &ri); err != nil {
		return nil, fmt.Errorf("read run info %s: %w", p, err)
	}
	return &ri, nil
}

// ReadManifest reads a stage folder's manifest; (nil, nil) when there is
// none.
func ReadManifest(ctx context.Context, fsys *storage.FS, stageDir string) (*Manifest, error) {
	p := storage.Join(stageDir, ManifestName)
	b, err := fsys.ReadFile(ctx, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", p, err)
	}
	return &m, nil
}
