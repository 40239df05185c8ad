package nn

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/detflow/detflow/tensor"
)

// Module is anything with named parameters, buffers and child modules.
type Module interface {
	// Params lists the module's own parameters (not its children's).
	Params() []Named
	// Buffers lists the module's own non-trainable state (running stats).
	Buffers() []Named
	// Children lists the direct sub-modules in registration order.
	Children() []Child
}

// Layer is a Module with a single-input forward pass.
type Layer interface {
	Module
	Forward(x *tensor.Tensor) *tensor.Tensor
}

// Named is a tensor and its (dotted) state-dict name.
type Named struct {
	Name   string
	Tensor *tensor.Tensor
}

// Child is a sub-module and the name it has in its parent.
type Child struct {
	Name   string
	Module Module
}

// Trainable is implemented by modules that behave differently in training
// and evaluation (batch norm).
type Trainable interface {
	SetTraining(on bool)
}

// NamedParameters lists every parameter of m and its descendants with
// dotted names, in registration order (PyTorch's named_parameters).
func NamedParameters(m Module) []Named {
	var out []Named
	walk(m, "", func(prefix string, mod Module) {
		for _, p := range mod.Params() {
			out = append(out, Named{prefix + p.Name, p.Tensor})
		}
	})
	return out
}

// NamedBuffers lists every buffer of m and its descendants.
func NamedBuffers(m Module) []Named {
	var out []Named
	walk(m, "", func(prefix string, mod Module) {
		for _, b := range mod.Buffers() {
			out = append(out, Named{prefix + b.Name, b.Tensor})
		}
	})
	return out
}

// TrainableParameters lists the parameters that require gradients (not frozen).
func TrainableParameters(m Module) []Named {
	var out []Named
	for _, p := range NamedParameters(m) {
		if p.Tensor.RequiresGrad() {
			out = append(out, p)
		}
	}
	return out
}

func walk(m Module, prefix string, fn func(prefix string, m Module)) {
	fn(prefix, m)
	for _, c := range m.Children() {
		walk(c.Module, prefix+c.Name+".", fn)
	}
}

// SetTraining switches every Trainable module under m.
func SetTraining(m Module, on bool) {
	walk(m, "", func(_ string, mod Module) {
		if t, ok := mod.(Trainable); ok {
			t.SetTraining(on)
		}
	})
}

// Freeze marks every parameter of m as not requiring gradients
// (requires_grad = False); Unfreeze undoes it.
func Freeze(m Module) { setRequiresGrad(m, false) }

// Unfreeze marks every parameter of m as requiring gradients.
func Unfreeze(m Module) { setRequiresGrad(m, true) }

func setRequiresGrad(m Module, on bool) {
	for _, p := range NamedParameters(m) {
		p.Tensor.SetRequiresGrad(on)
	}
}

// ZeroGrad clears the gradients of all parameters of m.
func ZeroGrad(m Module) {
	for _, p := range NamedParameters(m) {
		p.Tensor.ZeroGrad()
	}
}

// StateDict maps every parameter and buffer name to its tensor (the tensors
// themselves, not copies), like PyTorch's state_dict.
func StateDict(m Module) map[string]*tensor.Tensor {
	sd := map[string]*tensor.Tensor{}
	for _, p := range NamedParameters(m) {
		sd[p.Name] = p.Tensor
	}
	for _, b := range NamedBuffers(m) {
		sd[b.Name] = b.Tensor
	}
	return sd
}

// HostTensor is a named tensor in host memory, the interchange form for
// checkpoint readers and writers.
type HostTensor struct {
	Shape []int
	Data  []float32
}

// LoadReport lists the keys that did not line up in LoadStateDict.
type LoadReport struct {
	Missing    []string // in the model, not in the state dict
	Unexpected []string // in the state dict, not in the model
}

// Clean reports whether every key matched.
func (r LoadReport) Clean() bool { return len(r.Missing) == 0 && len(r.Unexpected) == 0 }

// Err is nil for a clean report and otherwise an error naming the keys,
// for callers that want PyTorch's strict=True.
func (r LoadReport) Err() error {
	if r.Clean() {
		return nil
	}
	return fmt.Errorf("state dict does not match the model: %s", r)
}

// String summarises the report.
func (r LoadReport) String() string {
	return fmt.Sprintf("missing keys: [%s]; unexpected keys: [%s]", strings.Join(r.Missing, ", "), strings.Join(r.Unexpected, ", "))
}

// LoadStateDict copies the values in sd into m's parameters and buffers by
// name. A shape mismatch is an error (nothing is half-loaded: shapes are
// checked before any copy). Missing and unexpected keys are reported, not
// errors; the caller decides (PyTorch's strict=False). Names in ignore (e.g.
// "num_batches_tracked" suffixes) are matched by suffix and never reported.
func LoadStateDict(m Module, sd map[string]HostTensor, ignoreSuffixes ...string) (LoadReport, error) {
	own := StateDict(m)
	ignored := func(k string) bool {
		for _, s := range ignoreSuffixes {
			if strings.HasSuffix(k, s) {
				return true
			}
		}
		return false
	}
	var rep LoadReport
	for _, k := range sortedKeys(own) {
		v, ok := sd[k]
		if !ok {
			if !ignored(k) {
				rep.Missing = append(rep.Missing, k)
			}
			continue
		}
		t := own[k]
		if !shapeMatches(v, t) {
			return LoadReport{}, fmt.Errorf("load state dict: %q has shape %v, model wants %v", k, v.Shape, t.Shape())
		}
	}
	for _, k := range sortedKeys(sd) {
		if _, ok := own[k]; !ok && !ignored(k) {
			rep.Unexpected = append(rep.Unexpected, k)
		}
	}
	for k, t := range own {
		if v, ok := sd[k]; ok {
			t.CopyFrom(v.Data)
		}
	}
	return rep, nil
}

// shapeMatches accepts equal shapes, and any one-element shapes for each
// other (PyTorch stores num_batches_tracked as a 0-d tensor).
func shapeMatches(v HostTensor, t *tensor.Tensor) bool {
	if len(v.Data) != t.Len() {
		return false
	}
	return v.Shape == nil || t.Len() == 1 || slices.Equal(v.Shape, t.Shape())
}

// HostStateDict copies m's state dict to host memory.
func HostStateDict(m Module) map[string]HostTensor {
	out := map[string]HostTensor{}
	for k, t := range StateDict(m) {
		out[k] = HostTensor{Shape: t.Shape(), Data: t.Data()}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// params builds a Named list, skipping nil tensors (absent bias).
func params(kv ...any) []Named {
	var out []Named
	for i := 0; i < len(kv); i += 2 {
		if t := kv[i+1].(*tensor.Tensor); t != nil {
			out = append(out, Named{kv[i].(string), t})
		}
	}
	return slices.Clip(out)
}

// Container is a Module made of named children and nothing else. Embed it
// in a model struct and Add each sub-module once, in PyTorch's registration
// order, to get state-dict names without writing Children by hand:
//
//	type block struct {
//		nn.Container
//		conv1 *nn.Conv2d
//	}
//	b.conv1 = nn.NewConv2d(e, cfg)
//	b.Add("conv1", b.conv1)
type Container struct {
	children []Child
}

// Add registers m under name and returns m.
func (c *Container) Add(name string, m Module) Module {
	for _, ch := range c.children {
		if ch.Name == name {
			tensor.Panicf("nn: child %q registered twice", name)
		}
	}
	c.children = append(c.children, Child{name, m})
	return m
}

// Params implements Module.
func (c *Container) Params() []Named { return nil }

// Buffers implements Module.
func (c *Container) Buffers() []Named { return nil }

// Children implements Module.
func (c *Container) Children() []Child { return c.children }
