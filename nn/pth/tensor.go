package pth

import "strings"

// Tensor is a materialised tensor in row-major order. Floating tensors
// fill F32, integer and bool tensors fill I64; DType is PyTorch's name for
// the stored type ("float32", "float16", "int64", "bool", ...).
type Tensor struct {
	Shape []int
	DType string
	F32   []float32
	I64   []int64
}

// Len returns the number of elements.
func (t *Tensor) Len() int {
	n := 1
	for _, s := range t.Shape {
		n *= s
	}
	return n
}

// IsFloat reports whether the data is in F32.
func (t *Tensor) IsFloat() bool { return isFloatDType(t.DType) }

// StateDict is an ordered map from parameter names (PyTorch's dotted names,
// e.g. "layer1.0.conv1.weight") to tensors.
type StateDict struct {
	Names   []string // in checkpoint order
	Tensors map[string]*Tensor

	// Key is the entry of a nested checkpoint the state dict came from
	// ("state_dict", "model", ...); empty when the checkpoint was the state
	// dict itself.
	Key string
	// Found lists the top-level keys of a nested checkpoint, for reporting.
	Found []string
	// Skipped names entries of the state dict that were not tensors.
	Skipped []string
}

// Get returns the tensor called name.
func (sd *StateDict) Get(name string) (*Tensor, bool) {
	t, ok := sd.Tensors[name]
	return t, ok
}

// Len returns the number of tensors.
func (sd *StateDict) Len() int { return len(sd.Names) }

// TrimPrefix returns a state dict whose names lose prefix where they have
// it, e.g. "module." from a checkpoint saved from DataParallel, or
// "backbone." to load a detector's backbone alone. Names without the prefix
// are dropped.
func (sd *StateDict) TrimPrefix(prefix string) *StateDict {
	out := &StateDict{Tensors: map[string]*Tensor{}, Key: sd.Key, Found: sd.Found}
	for _, n := range sd.Names {
		if !strings.HasPrefix(n, prefix) {
			continue
		}
		short := strings.TrimPrefix(n, prefix)
		out.Names = append(out.Names, short)
		out.Tensors[short] = sd.Tensors[n]
	}
	return out
}

// Match compares the names a model expects with a loaded state dict, as
// PyTorch's load_state_dict reports them: missing are expected names the
// state dict lacks (in expected order), unexpected are state dict names the
// model does not expect (in checkpoint order).
func Match(expected []string, got *StateDict) (missing, unexpected []string) {
	want := make(map[string]bool, len(expected))
	for _, n := range expected {
		want[n] = true
		if _, ok := got.Tensors[n]; !ok {
			missing = append(missing, n)
		}
	}
	for _, n := range got.Names {
		if !want[n] {
			unexpected = append(unexpected, n)
		}
	}
	return missing, unexpected
}
