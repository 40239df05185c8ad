package configs

import (
	"io/fs"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestDefaultsDocumented checks that every leaf key in defaults.yaml carries
// a comment, on its line or the lines above it: defaults.yaml is where keys
// are documented.
func TestDefaultsDocumented(t *testing.T) {
	data, err := fs.ReadFile(embedded, defaultsFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var walkDoc func(n *yaml.Node, prefix string)
	walkDoc = func(n *yaml.Node, prefix string) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := joinKey(prefix, k.Value)
			if v.Kind != yaml.MappingNode && k.HeadComment == "" && k.LineComment == "" && v.LineComment == "" {
				t.Errorf("defaults.yaml:%d: key %s has no comment", k.Line, key)
			}
			if v.Kind == yaml.MappingNode {
				walkDoc(v, key)
			}
		}
	}
	walkDoc(doc.Content[0], "")
}
