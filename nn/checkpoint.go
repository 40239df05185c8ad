package nn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/detflow/detflow/nn/safetensors"
)

// Checkpoint layout (safetensors):
//
//   - model tensors under their state-dict names, so the file is also a plain
//     PyTorch state dict (num_batches_tracked is written as a 0-d I64, as
//     PyTorch stores it);
//   - optimizer state under "optimizer.<key>" (see SGD.StateDict);
//   - metadata: "format" = CheckpointFormat, "step", "epoch", plus the
//     caller's own entries.
const (
	CheckpointFormat = "detflow-checkpoint-v1"
	optimizerPrefix  = "optimizer."
)

// CheckpointInfo is the training position stored with a checkpoint.
type CheckpointInfo struct {
	Step  int64             // global iterations completed
	Epoch int               // epochs completed
	Meta  map[string]string // free-form metadata (config digest, git commit...)
}

// SaveCheckpoint writes model (and opt, when not nil) to path atomically: a
// temporary file in the same directory is written, synced and renamed, so a
// crash leaves either the old file or the new one.
func SaveCheckpoint(ctx context.Context, path string, model Module, opt *SGD, info CheckpointInfo) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	meta := map[string]string{}
	for k, v := range info.Meta {
		meta[k] = v
	}
	meta["format"] = CheckpointFormat
	meta["step"] = strconv.FormatInt(info.Step, 10)
	meta["epoch"] = strconv.Itoa(info.Epoch)
	var ts []safetensors.Tensor
	for name, t := range StateDict(model) {
		ts = append(ts, toSafetensor(name, t.Shape(), t.Data()))
	}
	if opt != nil {
		for name, t := range opt.StateDict() {
			ts = append(ts, toSafetensor(optimizerPrefix+name, t.Shape(), t.Data()))
		}
	}
	return writeAtomic(path, func(f *os.File) error { return safetensors.Write(f, ts, meta) })
}

// toSafetensor stores num_batches_tracked as PyTorch does (0-d int64) and
// everything else as F32.
func toSafetensor(name string, shape []int, data []float32) safetensors.Tensor {
	if strings.HasSuffix(name, "num_batches_tracked") && len(data) == 1 {
		return safetensors.Tensor{Name: name, DType: safetensors.I64, Shape: []int{}, I64: []int64{int64(data[0])}}
	}
	return safetensors.Tensor{Name: name, DType: safetensors.F32, Shape: shape, F32: data}
}

func writeAtomic(path string, write func(f *os.File) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, tmp.Close(), os.Remove(tmp.Name()))
		}
	}()
	if err := write(tmp); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("save checkpoint %s: sync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save checkpoint %s: close: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	return nil
}

// LoadCheckpoint restores model (and opt, when not nil) from a file written
// by SaveCheckpoint, or from any safetensors state dict (then Step and Epoch
// are zero). Missing and unexpected model keys are reported, not errors;
// "num_batches_tracked" keys are never reported missing. A shape mismatch or
// bad optimizer state is an error and loads nothing of the model.
func LoadCheckpoint(ctx context.Context, path string, model Module, opt *SGD) (CheckpointInfo, LoadReport, error) {
	if err := ctx.Err(); err != nil {
		return CheckpointInfo{}, LoadReport{}, fmt.Errorf("load checkpoint %s: %w", path, err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return CheckpointInfo{}, LoadReport{}, fmt.Errorf("load checkpoint: %w", err)
	}
	modelSD, optSD := map[string]HostTensor{}, map[string]HostTensor{}
	for name, ht := range hostTensors(f) {
		if name, ok := strings.CutPrefix(name, optimizerPrefix); ok {
			optSD[name] = ht
			continue
		}
		modelSD[name] = ht
	}
	info, err := checkpointInfo(f.Metadata)
	if err != nil {
		return CheckpointInfo{}, LoadReport{}, fmt.Errorf("load checkpoint %s: %w", path, err)
	}
	rep, err := LoadStateDict(model, modelSD, "num_batches_tracked")
	if err != nil {
		return CheckpointInfo{}, LoadReport{}, fmt.Errorf("load checkpoint %s: %w", path, err)
	}
	if opt != nil {
		if err := opt.LoadStateDict(optSD); err != nil {
			return CheckpointInfo{}, LoadReport{}, fmt.Errorf("load checkpoint %s: %w", path, err)
		}
	}
	return info, rep, nil
}

// WriteSafetensors writes a state dict as float32 safetensors, names
// sorted, with the given metadata.
func WriteSafetensors(w io.Writer, sd map[string]HostTensor, meta map[string]string) error {
	ts := make([]safetensors.Tensor, 0, len(sd))
	for _, k := range slices.Sorted(maps.Keys(sd)) {
		ts = append(ts, safetensors.Tensor{Name: k, DType: safetensors.F32, Shape: sd[k].Shape, F32: sd[k].Data})
	}
	return safetensors.Write(w, ts, meta)
}

// ReadSafetensors returns every tensor of a safetensors file (a detflow
// checkpoint's optimizer state included, under "optimizer."), integers
// converted to float32.
func ReadSafetensors(path string) (map[string]HostTensor, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return hostTensors(f), nil
}

func hostTensors(f *safetensors.File) map[string]HostTensor {
	out := make(map[string]HostTensor, len(f.Tensors))
	for _, t := range f.Tensors {
		ht := HostTensor{Shape: t.Shape, Data: t.F32}
		if !t.DType.IsFloat() {
			ht.Data = make([]float32, len(t.I64))
			for i, v := range t.I64 {
				ht.Data[i] = float32(v)
			}
		}
		out[t.Name] = ht
	}
	return out
}

func checkpointInfo(meta map[string]string) (CheckpointInfo, error) {
	info := CheckpointInfo{Meta: map[string]string{}}
	for k, v := range meta {
		switch k {
		case "step":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return info, fmt.Errorf("metadata step %q: %w", v, err)
			}
			info.Step = n
		case "epoch":
			n, err := strconv.Atoi(v)
			if err != nil {
				return info, fmt.Errorf("metadata epoch %q: %w", v, err)
			}
			info.Epoch = n
		case "format":
			if v != CheckpointFormat {
				return info, fmt.Errorf("metadata format %q, want %q", v, CheckpointFormat)
			}
		default:
			info.Meta[k] = v
		}
	}
	return info, nil
}
