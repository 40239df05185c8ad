package pth

import (
	"fmt"
	"strings"

	"github.com/detflow/detflow/pickle"
)

// unsupportedStorage names a storage class whose element type this package
// does not convert (complex, quantized).
type unsupportedStorage string

// tensorClass stands for torch.Tensor and torch.nn.Parameter as the
// new_type of _rebuild_from_type_v2.
type tensorClass struct{}

// torchDTypes are the torch.<dtype> globals, kept as their names.
var torchDTypes = map[string]bool{
	"float32": true, "float16": true, "bfloat16": true, "float64": true, "int64": true,
	"int32": true, "int16": true, "int8": true, "uint8": true, "bool": true,
}

// resolveTorch resolves the stateless PyTorch globals that torch.save
// writes for tensors (loader.resolve adds the tensor rebuilder); everything
// else falls through to pickle's built-ins and then to inert records.
func resolveTorch(module, name string) (any, bool) {
	switch module + "." + name {
	case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
		return pickle.Func(rebuildParameter), true
	case "torch._tensor._rebuild_from_type_v2":
		return pickle.Func(rebuildFromType), true
	case "torch.Tensor", "torch.nn.parameter.Parameter":
		return tensorClass{}, true
	case "torch.Size":
		return pickle.Func(torchSize), true
	case "torch.device":
		return pickle.Func(torchDevice), true
	case "torch.storage._load_from_bytes":
		return pickle.Func(func(pickle.Tuple) (any, error) {
			return nil, fmt.Errorf("torch.storage._load_from_bytes: a storage pickled in the legacy format is embedded; re-save the checkpoint with torch.save")
		}), true
	}
	if module != "torch" {
		return nil, false
	}
	if st, ok := storageTypes[name]; ok {
		return st, true
	}
	if torchDTypes[name] {
		return name, true
	}
	if strings.HasSuffix(name, "Storage") {
		return unsupportedStorage("torch." + name), true
	}
	return nil, false
}

// torchSize implements torch.Size(list): a tuple.
func torchSize(args pickle.Tuple) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("torch.Size: want 1 argument, got %d", len(args))
	}
	switch x := args[0].(type) {
	case []any:
		return pickle.Tuple(x), nil
	case pickle.Tuple:
		return x, nil
	}
	return nil, fmt.Errorf("torch.Size: argument is a %T", args[0])
}

// torchDevice implements torch.device("cuda", 0) as its string form.
func torchDevice(args pickle.Tuple) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("torch.device: no arguments")
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("torch.device: argument is a %T", args[0])
	}
	if len(args) > 1 {
		if i, ok := args[1].(int64); ok {
			s = fmt.Sprintf("%s:%d", s, i)
		}
	}
	return s, nil
}
