package pipelines

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/detflow/detflow/rundir"
	"github.com/detflow/detflow/storage"
)

// fingerprint hashes everything that determines a stage's outputs.
// External inputs are left out when there are none, so fingerprints (and
// the train stage's resumable work folders) of such stages are unchanged.
func fingerprint(stage string, version int, config, inputs, external map[string]string) string {
	b, _ := json.Marshal(struct { // maps marshal with sorted keys: canonical
		Stage    string            `json:"stage"`
		Version  int               `json:"version"`
		Config   map[string]string `json:"config"`
		Inputs   map[string]string `json:"inputs"`
		External map[string]string `json:"external,omitempty"`
	}{stage, version, config, inputs, external})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// outputsDigest hashes the sorted list of outputs.
func outputsDigest(outs []rundir.Output) string {
	h := sha256.New()
	for _, o := range outs {
		fmt.Fprintf(h, "%s\x00%d\x00%s\n", o.Path, o.Size, o.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// publishedDigest is what downstream stages fingerprint: the outputs, and
// the external inputs, whose content downstream stages may read through
// paths the outputs name (records read the user's images).
func publishedDigest(outs []rundir.Output, external map[string]string) string {
	d := outputsDigest(outs)
	if len(external) == 0 {
		return d
	}
	b, _ := json.Marshal(external)
	sum := sha256.Sum256(append([]byte(d+"\n"), b...))
	return hex.EncodeToString(sum[:])
}

// hashOutputs lists every file below dir (except a manifest) with its size
// and SHA-256, sorted by path.
func hashOutputs(ctx context.Context, fsys *storage.FS, dir string) ([]rundir.Output, error) {
	files, err := fsys.ListRecursive(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("list outputs: %w", err)
	}
	var outs []rundir.Output
	for _, f := range files {
		rel, err := relPath(dir, f.Path)
		if err != nil {
			return nil, err
		}
		if rel == rundir.ManifestName {
			continue
		}
		d, err := fsys.DigestFile(ctx, f.Path)
		if err != nil {
			return nil, fmt.Errorf("hash output %s: %w", rel, err)
		}
		outs = append(outs, rundir.Output{Path: rel, Size: d.Size, SHA256: d.SHA256})
	}
	sort.Slice(outs, func(i, j int) bool { return outs[i].Path < outs[j].Path })
	return outs, nil
}

// checkOutputs reports the first reason dir no longer holds m's outputs, or
// "" when all are present with their recorded sizes (and hashes, if verify).
func checkOutputs(ctx context.Context, fsys *storage.FS, dir string, m *rundir.Manifest, verify bool) (string, error) {
	for _, o := range m.Outputs {
		p := storage.Join(dir, o.Path)
		info, err := fsys.Stat(ctx, p)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Sprintf("output missing: %s", o.Path), nil
		}
		if err != nil {
			return "", fmt.Errorf("check output %s: %w", p, err)
		}
		if info.Size != o.Size {
			return fmt.Sprintf("output %s changed size (%d -> %d bytes)", o.Path, o.Size, info.Size), nil
		}
		if !verify {
			continue
		}
		d, err := fsys.DigestFile(ctx, p)
		if err != nil {
			return "", fmt.Errorf("verify output %s: %w", p, err)
		}
		if d.SHA256 != o.SHA256 {
			return fmt.Sprintf("output %s changed content (sha256 mismatch)", o.Path), nil
		}
	}
	return "", nil
}

// relPath returns p relative to dir, with forward slashes.
func relPath(dir, p string) (string, error) {
	prefix := strings.TrimSuffix(storage.Join(dir), "/") + "/"
	if !strings.HasPrefix(p, prefix) {
		return "", fmt.Errorf("listed output %s is not under %s", p, dir)
	}
	return path.Clean(strings.TrimPrefix(p, prefix)), nil
}
