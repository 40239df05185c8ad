package pickle

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Tuple is a Python tuple. It is distinct from a list ([]any) so that callers
// can tell the two apart, as Python code often does (e.g. shapes).
type Tuple []any

// DictEntry is one key/value pair of a Dict.
type DictEntry struct {
	Key   any
	Value any
}

// Dict is a Python dict (or OrderedDict): entries in insertion order, keys of
// any hashable type (string, int64, float64, bool, nil, Tuple, *big.Int).
// Setting an existing key replaces its value in place, as Python does.
type Dict struct {
	Entries []DictEntry
	// State is what BUILD gave the dict: the instance attributes of an
	// OrderedDict, e.g. the _metadata that PyTorch attaches to state dicts.
	State any
	index map[string]int
}

// SetState implements StateSetter.
func (d *Dict) SetState(state any) error {
	d.State = state
	return nil
}

// NewDict returns an empty Dict.
func NewDict() *Dict { return &Dict{index: map[string]int{}} }

// Len returns the number of entries.
func (d *Dict) Len() int { return len(d.Entries) }

// Set sets key to value. It fails for an unhashable key (list, dict, set).
func (d *Dict) Set(key, value any) error {
	h, err := hashKey(key)
	if err != nil {
		return err
	}
	if d.index == nil {
		d.index = map[string]int{}
	}
	if i, ok := d.index[h]; ok {
		d.Entries[i].Value = value
		return nil
	}
	d.index[h] = len(d.Entries)
	d.Entries = append(d.Entries, DictEntry{Key: key, Value: value})
	return nil
}

// Get returns the value stored under key.
func (d *Dict) Get(key any) (any, bool) {
	h, err := hashKey(key)
	if err != nil || d.index == nil {
		return nil, false
	}
	i, ok := d.index[h]
	if !ok {
		return nil, false
	}
	return d.Entries[i].Value, true
}

// StringKeys returns the keys that are strings, in order, and reports whether
// every key was a string.
func (d *Dict) StringKeys() ([]string, bool) {
	keys := make([]string, 0, len(d.Entries))
	all := true
	for _, e := range d.Entries {
		s, ok := e.Key.(string)
		if !ok {
			all = false
			continue
		}
		keys = append(keys, s)
	}
	return keys, all
}

// Set is a Python set or frozenset: distinct items in insertion order.
type Set struct {
	Items  []any
	Frozen bool
	index  map[string]bool
}

// Add adds item unless an equal item is already present.
func (s *Set) Add(item any) error {
	h, err := hashKey(item)
	if err != nil {
		return err
	}
	if s.index == nil {
		s.index = map[string]bool{}
	}
	if s.index[h] {
		return nil
	}
	s.index[h] = true
	s.Items = append(s.Items, item)
	return nil
}

// Contains reports whether item is in the set.
func (s *Set) Contains(item any) bool {
	h, err := hashKey(item)
	return err == nil && s.index[h]
}

// Global names a Python object by module and qualified name, as GLOBAL and
// STACK_GLOBAL do.
type Global struct {
	Module string
	Name   string
}

// String returns "module.Name".
func (g Global) String() string { return g.Module + "." + g.Name }

// maxKeyLen bounds the canonical form of one dict or set key. Real keys are
// names, paths, ids and short tuples; the bound keeps a hostile pickle from
// making every insertion arbitrarily expensive.
const maxKeyLen = 1 << 16

// hashKey returns a canonical string for a hashable value such that values
// Python considers equal (1, 1.0 and True) share it.
func hashKey(v any) (string, error) {
	var b strings.Builder
	if err := writeKey(&b, v, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writeKey(b *strings.Builder, v any, depth int) error {
	if depth > 64 {
		return fmt.Errorf("dict key nested more than 64 levels")
	}
	if b.Len() > maxKeyLen {
		return fmt.Errorf("dict key longer than %d bytes", maxKeyLen)
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("N")
	case bool:
		if x {
			b.WriteString("i1;")
		} else {
			b.WriteString("i0;")
		}
	case int64:
		b.WriteString("i" + strconv.FormatInt(x, 10) + ";")
	case *big.Int:
		b.WriteString("i" + x.String() + ";")
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			b.WriteString("i" + strconv.FormatInt(int64(x), 10) + ";")
		} else {
			b.WriteString("f" + strconv.FormatFloat(x, 'g', -1, 64) + ";")
		}
	case string:
		if len(x) > maxKeyLen {
			return fmt.Errorf("dict key longer than %d bytes", maxKeyLen)
		}
		b.WriteString("s" + strconv.Itoa(len(x)) + ":" + x)
	case []byte:
		if len(x) > maxKeyLen {
			return fmt.Errorf("dict key longer than %d bytes", maxKeyLen)
		}
		b.WriteString("b" + strconv.Itoa(len(x)) + ":" + string(x))
	case Tuple:
		b.WriteString("t(")
		for _, item := range x {
			if err := writeKey(b, item, depth+1); err != nil {
				return err
			}
		}
		b.WriteString(")")
	case Global:
		b.WriteString("g" + x.String() + ";")
	default:
		return fmt.Errorf("unhashable type %s", typeName(v))
	}
	return nil
}

// typeName names a decoded value's Python type for error messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case []any, *list:
		return "list"
	case Tuple:
		return "tuple"
	case *Dict:
		return "dict"
	case *Set:
		return "set"
	case *Array:
		return "numpy.ndarray"
	case *DType:
		return "numpy.dtype"
	case Global:
		return "global"
	case Class:
		return Global(v.(Class)).String()
	case *Object:
		return v.(*Object).Class.String()
	default:
		return fmt.Sprintf("%T", v)
	}
}
