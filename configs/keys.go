package configs

import (
	"reflect"
	"sort"
	"strings"
)

// keyName is the YAML key of a struct field: its yaml tag up to the first
// comma, or "" for fields outside the schema (untagged or "-").
func keyName(f reflect.StructField) string {
	tag := f.Tag.Get("yaml")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

// fieldIndex finds the field of struct type t whose key is name.
func fieldIndex(t reflect.Type, name string) (int, bool) {
	for i := 0; i < t.NumField(); i++ {
		if keyName(t.Field(i)) == name {
			return i, true
		}
	}
	return 0, false
}

// joinKey appends name to the key path prefix.
func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// schemaKeys lists every key path of struct type t below prefix: mappings
// and leaves, in schema order.
func schemaKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		name := keyName(t.Field(i))
		if name == "" {
			continue
		}
		key := joinKey(prefix, name)
		keys = append(keys, key)
		if ft := t.Field(i).Type; ft.Kind() == reflect.Struct {
			keys = append(keys, schemaKeys(ft, key)...)
		}
	}
	return keys
}

// Keys lists every key path of the schema, mappings ("train.grad_clip") and
// leaves ("train.grad_clip.max_norm"), sorted.
func Keys() []string {
	keys := schemaKeys(reflect.TypeFor[Config](), "")
	sort.Strings(keys)
	return keys
}

// nearest returns the candidate closest to s by edit distance; ties go to
// the candidate that sorts first, so suggestions are deterministic.
func nearest(s string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		d := levenshtein(s, c)
		if bestDist < 0 || d < bestDist || (d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	return best
}

// levenshtein is the edit distance between a and b (insertions, deletions
// and substitutions of bytes; keys are ASCII).
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// unknownKey is the error for a key outside the schema, naming the nearest
// valid key.
func unknownKey(source, key string) *Error {
	var candidates []string
	for _, k := range Keys() {
		// An ancestor mapping ("train" for "train.lrr") is close by edit
		// distance but never what was meant; an ancestor leaf ("train.lr"
		// for "train.lr.x") may be.
		if !strings.HasPrefix(key, k+".") || !isMapping(k) {
			candidates = append(candidates, k)
		}
	}
	return errorf(source, key, "unknown key %q (did you mean %q?)", key, nearest(key, candidates))
}

// isMapping reports whether key is a mapping (not a leaf) of the schema.
func isMapping(key string) bool {
	v, ok := walk(reflect.New(reflect.TypeFor[Config]()).Elem(), key)
	return ok && v.Kind() == reflect.Struct
}
