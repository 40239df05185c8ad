package configs

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// source names where YAML nodes come from, for error messages and origins.
type source struct {
	name string // "configs/x.yaml" or "--set k=v"
	file bool   // a YAML file: errors carry line numbers, _base_ is allowed
}

func (s source) at(n *yaml.Node) string {
	if s.file && n != nil && n.Line > 0 {
		return fmt.Sprintf("%s:%d", s.name, n.Line)
	}
	return s.name
}

// applier merges YAML nodes into a Config: mappings merge key by key, lists
// and scalars replace, and a mapping with `_delete_: true` first resets its
// key to the defaults, discarding what earlier files and bases set there.
type applier struct {
	cfg *Config
	// defaults and defaultOrigin are what _delete_ resets to; nil while the
	// defaults themselves are being applied.
	defaults      *Config
	defaultOrigin map[string]string
}

// apply merges node n into v, the value at key path key.
func (a *applier) apply(src source, n *yaml.Node, v reflect.Value, key string) error {
	n = resolveAlias(n)
	if v.Kind() == reflect.Struct {
		return a.applyMapping(src, n, v, key)
	}
	val, err := convert(n, v.Type())
	if err != nil {
		return errorf(src.at(n), key, "%s: %v", key, err)
	}
	v.Set(val)
	a.cfg.origin[key] = src.at(n)
	return nil
}

// applyMapping merges mapping n into the struct v at key. Top-level _base_
// keys were read by the loader and are skipped here.
func (a *applier) applyMapping(src source, n *yaml.Node, v reflect.Value, key string) error {
	if n.Kind != yaml.MappingNode {
		return errorf(src.at(n), key, "%s: expected a mapping, got %s", displayKey(key), describeNode(n))
	}
	if err := a.applyDelete(src, n, v, key); err != nil {
		return err
	}
	seen := make(map[string]bool)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := resolveAlias(n.Content[i]), n.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			return errorf(src.at(kn), key, "%s: keys must be strings, got %s", displayKey(key), describeNode(kn))
		}
		name := kn.Value
		if seen[name] {
			return errorf(src.at(kn), joinKey(key, name), "duplicate key %q", joinKey(key, name))
		}
		seen[name] = true
		if name == "_delete_" || (name == "_base_" && key == "" && src.file) {
			continue
		}
		idx, ok := fieldIndex(v.Type(), name)
		if !ok {
			return unknownKey(src.at(kn), joinKey(key, name))
		}
		if err := a.apply(src, vn, v.Field(idx), joinKey(key, name)); err != nil {
			return err
		}
	}
	return nil
}

// applyDelete handles `_delete_: true` in mapping n: the struct v at key is
// reset to its defaults before the rest of the mapping is merged, so the
// mapping replaces, instead of merging with, what came before it.
func (a *applier) applyDelete(src source, n *yaml.Node, v reflect.Value, key string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "_delete_" {
			continue
		}
		vn := resolveAlias(n.Content[i+1])
		if vn.Kind != yaml.ScalarNode || vn.ShortTag() != "!!bool" {
			return errorf(src.at(vn), key, "%s: expected true or false, got %s", joinKey(key, "_delete_"), describeNode(vn))
		}
		var del bool
		if err := vn.Decode(&del); err != nil {
			return errorf(src.at(vn), key, "%s: %v", joinKey(key, "_delete_"), err)
		}
		if !del || a.defaults == nil {
			return nil
		}
		dv, _ := walk(reflect.ValueOf(a.defaults).Elem(), key)
		origin := a.cfg.origin // kept when the whole config is reset
		v.Set(dv)
		a.cfg.origin = origin
		for k := range a.cfg.origin {
			if under(k, key) {
				delete(a.cfg.origin, k)
			}
		}
		for k, o := range a.defaultOrigin {
			if under(k, key) {
				a.cfg.origin[k] = o
			}
		}
	}
	return nil
}

// under reports whether key k is prefix itself or below it.
func under(k, prefix string) bool {
	return prefix == "" || k == prefix || strings.HasPrefix(k, prefix+".")
}

// walk follows key path key from struct v; "" is v itself.
func walk(v reflect.Value, key string) (reflect.Value, bool) {
	if key == "" {
		return v, true
	}
	for _, name := range strings.Split(key, ".") {
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		idx, ok := fieldIndex(v.Type(), name)
		if !ok {
			return reflect.Value{}, false
		}
		v = v.Field(idx)
	}
	return v, true
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func displayKey(key string) string {
	if key == "" {
		return "config"
	}
	return key
}

// convert turns a scalar or list node into a value of type t (a scalar kind
// or a slice of one). Types are strict, so that typos fail loudly: an int
// field takes only integers, a float field integers or floats, a bool field
// only true or false, a string field only strings. null empties strings and
// lists.
func convert(n *yaml.Node, t reflect.Type) (reflect.Value, error) {
	if t.Kind() != reflect.Slice {
		return convertScalar(n, t)
	}
	if isNull(n) {
		return reflect.MakeSlice(t, 0, 0), nil
	}
	if n.Kind != yaml.SequenceNode {
		return reflect.Value{}, fmt.Errorf("expected %s like [a, b], got %s", describeType(t), describeNode(n))
	}
	s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
	for i, e := range n.Content {
		ev, err := convertScalar(resolveAlias(e), t.Elem())
		if err != nil {
			return reflect.Value{}, fmt.Errorf("item %d: %w", i, err)
		}
		s.Index(i).Set(ev)
	}
	return s, nil
}

func convertScalar(n *yaml.Node, t reflect.Type) (reflect.Value, error) {
	bad := fmt.Errorf("expected %s, got %s", describeType(t), describeNode(n))
	if n == nil || n.Kind != yaml.ScalarNode {
		return reflect.Value{}, bad
	}
	tag := n.ShortTag()
	if t == numberOrWordType {
		return convertNumberOrWord(n, tag, bad)
	}
	switch t.Kind() {
	case reflect.String:
		switch tag {
		case "!!str":
			return reflect.ValueOf(n.Value).Convert(t), nil
		case "!!null":
			return reflect.Zero(t), nil
		}
	case reflect.Bool:
		if tag == "!!bool" {
			var b bool
			if err := n.Decode(&b); err != nil {
				return reflect.Value{}, bad
			}
			return reflect.ValueOf(b).Convert(t), nil
		}
	case reflect.Int:
		if tag == "!!int" {
			var i int64
			if err := n.Decode(&i); err != nil || int64(int(i)) != i {
				return reflect.Value{}, fmt.Errorf("expected %s, got %q (out of range)", describeType(t), n.Value)
			}
			return reflect.ValueOf(int(i)).Convert(t), nil
		}
	case reflect.Float64:
		if tag == "!!int" || tag == "!!float" {
			var f float64
			if err := n.Decode(&f); err != nil {
				return reflect.Value{}, bad
			}
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return reflect.Value{}, fmt.Errorf("expected a finite number, got %q", n.Value)
			}
			return reflect.ValueOf(f).Convert(t), nil
		}
	}
	return reflect.Value{}, bad
}

var numberOrWordType = reflect.TypeOf(NumberOrWord(""))

// convertNumberOrWord keeps a word as it is and a finite number as its
// canonical text, so equal numbers fingerprint alike.
func convertNumberOrWord(n *yaml.Node, tag string, bad error) (reflect.Value, error) {
	switch tag {
	case "!!str":
		return reflect.ValueOf(NumberOrWord(n.Value)), nil
	case "!!int", "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return reflect.Value{}, bad
		}
		return reflect.ValueOf(NumberOrWord(strconv.FormatFloat(f, 'g', -1, 64))), nil
	}
	return reflect.Value{}, bad
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func describeType(t reflect.Type) string {
	if t == numberOrWordType {
		return "a word or a number"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.Slice:
		switch t.Elem().Kind() {
		case reflect.String:
			return "a list of strings"
		case reflect.Int:
			return "a list of integers"
		case reflect.Float64:
			return "a list of numbers"
		}
	case reflect.Struct:
		return "a mapping"
	}
	return t.String()
}

func describeNode(n *yaml.Node) string {
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		if n.Value == "" {
			return "an empty value"
		}
		return "null"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}
