package configs

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Values flattens the config to "a.b.c" -> canonical value for every leaf
// at or below the given key prefixes (all leaves when none are given). The
// orchestrator fingerprints a stage by the values of the keys it reads, so
// the strings are canonical: the same config always gives the same strings,
// whichever files and flags produced it. Integers are decimal, floats the
// shortest text that reads back to the same float64 (0.02, 1e-05), bools
// true or false, strings as they are, lists [a,b] with strings quoted.
// A prefix that is no key of the schema is an error.
func (c *Config) Values(prefixes ...string) (map[string]string, error) {
	keys := Keys()
	for _, p := range prefixes {
		if i := sort.SearchStrings(keys, p); i == len(keys) || keys[i] != p {
			return nil, fmt.Errorf("values of config key %q: unknown key (did you mean %q?)", p, nearest(p, keys))
		}
	}
	out := make(map[string]string)
	leaves(reflect.ValueOf(c).Elem(), "", func(key string, v reflect.Value) {
		if len(prefixes) == 0 {
			out[key] = format(v)
			return
		}
		for _, p := range prefixes {
			if under(key, p) {
				out[key] = format(v)
				return
			}
		}
	})
	return out, nil
}

// leaves calls fn for every leaf of struct v, in schema order.
func leaves(v reflect.Value, prefix string, fn func(key string, v reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := keyName(t.Field(i))
		if name == "" {
			continue
		}
		key := joinKey(prefix, name)
		if f := v.Field(i); f.Kind() == reflect.Struct {
			leaves(f, key, fn)
		} else {
			fn(key, f)
		}
	}
}

// format is the canonical text of a leaf value.
func format(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Slice:
		items := make([]string, v.Len())
		for i := range items {
			e := v.Index(i)
			if e.Kind() == reflect.String {
				items[i] = strconv.Quote(e.String())
			} else {
				items[i] = format(e)
			}
		}
		return "[" + strings.Join(items, ",") + "]"
	}
	panic(fmt.Sprintf("configs: no canonical form for %s", v.Type()))
}

// Origin says where the value of a leaf key was set: "configs/x.yaml:12",
// "--set k=v", or "" for an unknown key.
func (c *Config) Origin(key string) string {
	return c.origin[key]
}

// YAML is the resolved config as YAML: every key, no _base_. Loading it
// (with Load and a path) gives the same Values.
func (c *Config) YAML() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Resolved detflow config %q: defaults, bases, the config and --set merged.\n", c.Name)
	b.WriteString("# Load it again with --config FILE; every key is documented in configs/defaults.yaml.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encode config %q: %w", c.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode config %q: %w", c.Name, err)
	}
	return b.Bytes(), nil
}

// Change is one key whose value differs between two Values maps.
type Change struct {
	Key      string
	Old, New string
	Added    bool // only in the new values
	Removed  bool // only in the old values
}

func (ch Change) String() string {
	switch {
	case ch.Added:
		return fmt.Sprintf("config key %s added (%s)", ch.Key, ch.New)
	case ch.Removed:
		return fmt.Sprintf("config key %s removed (was %s)", ch.Key, ch.Old)
	}
	return fmt.Sprintf("config key %s changed (%s -> %s)", ch.Key, ch.Old, ch.New)
}

// Diff lists the keys whose values differ between old and cur, sorted by key.
func Diff(old, cur map[string]string) []Change {
	var changes []Change
	for k, o := range old {
		n, ok := cur[k]
		switch {
		case !ok:
			changes = append(changes, Change{Key: k, Old: o, Removed: true})
		case n != o:
			changes = append(changes, Change{Key: k, Old: o, New: n})
		}
	}
	for k, n := range cur {
		if _, ok := old[k]; !ok {
			changes = append(changes, Change{Key: k, New: n, Added: true})
		}
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Key < changes[j].Key })
	return changes
}
