package pth

import (
	"fmt"
	"strings"

	"github.com/detflow/detflow/pickle"
)

// nestedKeys are the entries that training frameworks store the model's
// state dict under, tried in this order: MMDetection and most scripts use
// "state_dict", Detectron2 and torchvision's references "model".
var nestedKeys = []string{"state_dict", "model", "model_state_dict", "module", "net"}

// StateDict extracts a state dict from the checkpoint. With key empty it
// takes the root when the root maps names to tensors, and otherwise the
// first of "state_dict", "model", "model_state_dict", "module", "net" that
// holds one. A non-empty key names the entry to take.
func (c *Checkpoint) StateDict(key string) (*StateDict, error) {
	root, err := asDict(c.Root, "checkpoint")
	if err != nil {
		return nil, err
	}
	found := topKeys(root)
	if key != "" {
		v, ok := root.Get(key)
		if !ok {
			return nil, fmt.Errorf("checkpoint has no entry %q (top-level keys: %q)", key, found)
		}
		return fromEntry(v, key, found)
	}
	if looksLikeStateDict(root) {
		return toStateDict(root, "", nil)
	}
	for _, k := range nestedKeys {
		if v, ok := root.Get(k); ok {
			return fromEntry(v, k, found)
		}
	}
	return nil, fmt.Errorf("no state dict found: the checkpoint's top-level keys are %q and none holds tensors; pick one with Checkpoint.StateDict(key)", found)
}

func fromEntry(v any, key string, found []string) (*StateDict, error) {
	d, err := asDict(v, fmt.Sprintf("entry %q", key))
	if err != nil {
		return nil, err
	}
	return toStateDict(d, key, found)
}

// asDict checks that v is a dict, explaining the usual wrong cases.
func asDict(v any, what string) (*pickle.Dict, error) {
	switch x := v.(type) {
	case *pickle.Dict:
		return x, nil
	case *pickle.Object:
		return nil, fmt.Errorf("%s is a pickled %s object (torch.save of a whole module?), not a state dict; in Python: torch.save(obj.state_dict(), new_path)", what, x.Class)
	case *Tensor:
		return nil, fmt.Errorf("%s is a single tensor, not a state dict", what)
	case []any:
		return nil, fmt.Errorf("%s is a list, not a dict of tensors", what)
	case pickle.Tuple:
		return nil, fmt.Errorf("%s is a tuple, not a dict of tensors", what)
	}
	return nil, fmt.Errorf("%s is a %s, not a dict of tensors", what, describe(v))
}

// tensorLike reports whether v is a tensor, or an object built by a torch
// function this package does not rebuild (a quantized tensor, say), which
// then gets its own error.
func tensorLike(v any) bool {
	switch x := v.(type) {
	case *Tensor:
		return true
	case *pickle.Object:
		return strings.HasPrefix(x.Class.Module, "torch")
	}
	return false
}

// looksLikeStateDict reports whether d maps names to tensors directly: it
// holds a tensor and none of the usual nesting keys holds a dict.
func looksLikeStateDict(d *pickle.Dict) bool {
	tensors := 0
	for _, e := range d.Entries {
		if tensorLike(e.Value) {
			tensors++
		}
	}
	if tensors == 0 {
		return false
	}
	for _, k := range nestedKeys {
		if v, ok := d.Get(k); ok {
			if _, isDict := v.(*pickle.Dict); isDict {
				return false
			}
		}
	}
	return true
}

func topKeys(d *pickle.Dict) []string {
	keys := make([]string, 0, d.Len())
	for _, e := range d.Entries {
		keys = append(keys, keyString(e.Key))
	}
	return keys
}

// keyString shows a dict key in messages without printing arbitrary
// (possibly huge) decoded structures.
func keyString(k any) string {
	switch x := k.(type) {
	case string:
		return x
	case int64, bool, float64, nil:
		return fmt.Sprint(x)
	}
	return fmt.Sprintf("<%T>", k)
}

// toStateDict converts a name -> tensor dict. Entries that are not tensors
// are listed in Skipped, except objects built by an unsupported tensor
// rebuilder, which are an error naming the rebuilder.
func toStateDict(d *pickle.Dict, key string, found []string) (*StateDict, error) {
	sd := &StateDict{Tensors: make(map[string]*Tensor, d.Len()), Key: key, Found: found}
	for _, e := range d.Entries {
		name, ok := e.Key.(string)
		if !ok {
			return nil, fmt.Errorf("state dict key %s is not a string", keyString(e.Key))
		}
		switch v := e.Value.(type) {
		case *Tensor:
			sd.Names = append(sd.Names, name)
			sd.Tensors[name] = v
		case *pickle.Object:
			if tensorLike(v) {
				return nil, fmt.Errorf("state dict entry %q is built by %s, which is not supported (quantized or custom tensor?)", name, v.Class)
			}
			sd.Skipped = append(sd.Skipped, name)
		default:
			sd.Skipped = append(sd.Skipped, name)
		}
	}
	if len(sd.Names) == 0 && len(sd.Skipped) > 0 {
		what := "the checkpoint"
		if key != "" {
			what = fmt.Sprintf("entry %q", key)
		}
		return nil, fmt.Errorf("%s holds no tensors (keys %q), so it is not a state dict", what, sd.Skipped)
	}
	return sd, nil
}
