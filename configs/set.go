package configs

import (
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// applySet applies one --set override "a.b.c=value". The value is typed by
// the schema field: string fields take the text as it is ("null" empties
// them); other fields, NumberOrWord ones too, parse it as YAML ("0.01", "true", "[640, 480]",
// "null", "{max_norm: 10}") and then convert it as a file value would be.
func (a *applier) applySet(set string) error {
	src := source{name: "--set " + set}
	key, raw, ok := strings.Cut(set, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return errorf(src.name, "", "want key=value, e.g. train.lr=0.01")
	}
	v, ok := walk(reflect.ValueOf(a.cfg).Elem(), key)
	if !ok {
		return unknownKey(src.name, key)
	}
	if v.Kind() == reflect.String && v.Type() != numberOrWordType {
		if raw == "null" {
			raw = ""
		}
		v.SetString(raw)
		a.cfg.origin[key] = src.name
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(raw), &doc); err != nil {
		return errorf(src.name, key, "%s: parse value %q: %v", key, raw, err)
	}
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		n = doc.Content[0]
	}
	return a.apply(src, n, v, key)
}
