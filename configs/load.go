package configs

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/detflow/detflow/zoo"
	"gopkg.in/yaml.v3"
)

// Default is the config `pipeline run` uses when given no --config.
const Default = "fast_rcnn_tiny_synth"

// defaultsFile is the file every config starts from.
const defaultsFile = "defaults.yaml"

//go:embed defaults.yaml *.yaml _base_
var embedded embed.FS

// Load resolves a config and validates it.
//
// nameOrPath is either the name of an embedded config ("fast_rcnn_tiny_synth",
// see Names) or the path of a YAML file on disk (anything containing a path
// separator or ending in .yaml or .yml). The result is defaults.yaml, then
// the file's _base_ files merged in order (each with its own bases first),
// then the file itself, then sets in order. Each set is "a.b.c=value", the
// value typed by the schema field it sets.
//
// Bases of an embedded file are resolved relative to that file within the
// embedded tree, then from the embedded root. Bases of a file on disk are
// resolved relative to that file on disk first; a base not found there that
// is not written as "./x" or "../x" is then looked up in the embedded tree,
// so a user's file can say `_base_: [fast_rcnn_r50_fpn_1x_coco]` or
// `_base_: [_base_/models/fast_rcnn_r50_fpn.yaml]`. The .yaml extension of
// a base may be left out.
//
// When the loaded file itself (not a base) sets no name, the name is the
// file's name without its extension.
func Load(nameOrPath string, sets []string) (*Config, error) {
	return load(embedded, nameOrPath, sets)
}

// Names lists the embedded configs that Load accepts by name, sorted.
func Names() []string {
	return names(embedded)
}

// PipelineConfig returns the name of the embedded config a pipeline runs
// when none is given: the registry's default config of that pipeline.
func PipelineConfig(pipeline string) (string, error) {
	p, err := zoo.LookupPipeline(pipeline)
	if err != nil {
		return "", fmt.Errorf("unknown pipeline %q (did you mean %q?); pipelines: %s",
			pipeline, nearest(pipeline, zoo.PipelineNames()), strings.Join(zoo.PipelineNames(), ", "))
	}
	return p.Config, nil
}

func names(efs fs.FS) []string {
	entries, err := fs.ReadDir(efs, ".")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".yaml")
		if ok && !e.IsDir() && e.Name() != defaultsFile {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// file is a config file, embedded or on disk.
type file struct {
	embedded bool
	path     string // embedded: slash path from the embedded root; disk: OS path
}

// String is the name errors use: embedded files as they sit in the
// repository ("configs/x.yaml"), disk files as given.
func (f file) String() string {
	if f.embedded {
		return "configs/" + f.path
	}
	return f.path
}

// loader resolves one config.
type loader struct {
	efs   fs.FS
	app   applier
	stack []file // files being applied, for cycle detection
}

func load(efs fs.FS, nameOrPath string, sets []string) (*Config, error) {
	top, err := resolveTop(efs, nameOrPath)
	if err != nil {
		return nil, err
	}
	l := &loader{efs: efs}
	if err := l.loadDefaults(); err != nil {
		return nil, err
	}
	if err := l.applyFile(top); err != nil {
		return nil, err
	}
	cfg := l.app.cfg
	if !strings.HasPrefix(cfg.origin["name"], top.String()+":") {
		cfg.Name = stem(top.path)
		cfg.origin["name"] = top.String()
	}
	for _, set := range sets {
		if err := l.app.applySet(set); err != nil {
			return nil, err
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// loadDefaults applies defaults.yaml to an empty config and keeps a copy
// for _delete_ to reset to.
func (l *loader) loadDefaults() error {
	l.app.cfg = &Config{origin: make(map[string]string)}
	f := file{embedded: true, path: defaultsFile}
	doc, err := l.parse(f)
	if err != nil {
		return err
	}
	if err := l.app.apply(source{name: f.String(), file: true}, doc, reflect.ValueOf(l.app.cfg).Elem(), ""); err != nil {
		return err
	}
	// A shallow copy is enough: merging replaces slices, never writes into them.
	defaults := *l.app.cfg
	defaults.origin = nil
	l.app.defaults = &defaults
	l.app.defaultOrigin = make(map[string]string, len(l.app.cfg.origin))
	for k, o := range l.app.cfg.origin {
		l.app.defaultOrigin[k] = o
	}
	return nil
}

// applyFile applies f's bases in order, then f itself.
func (l *loader) applyFile(f file) error {
	for _, g := range l.stack {
		if g == f {
			chain := make([]string, 0, len(l.stack)+1)
			for _, h := range l.stack {
				chain = append(chain, h.String())
			}
			chain = append(chain, f.String())
			return fmt.Errorf("%s: _base_ cycle: %s", f, strings.Join(chain, " -> "))
		}
	}
	l.stack = append(l.stack, f)
	defer func() { l.stack = l.stack[:len(l.stack)-1] }()

	doc, err := l.parse(f)
	if err != nil {
		return err
	}
	bases, err := baseRefs(f, doc)
	if err != nil {
		return err
	}
	for _, ref := range bases {
		b, err := l.resolveBase(f, ref)
		if err != nil {
			return err
		}
		if err := l.applyFile(b); err != nil {
			return err
		}
	}
	return l.app.apply(source{name: f.String(), file: true}, doc, reflect.ValueOf(l.app.cfg).Elem(), "")
}

// parse reads f and returns its root mapping (an empty one for an empty file).
func (l *loader) parse(f file) (*yaml.Node, error) {
	var data []byte
	var err error
	if f.embedded {
		data, err = fs.ReadFile(l.efs, f.path)
	} else {
		data, err = os.ReadFile(f.path)
	}
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", f, err)
	}
	return parseYAML(f.String(), data)
}

func parseYAML(name string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse config %s: %w", name, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}, nil
	}
	root := resolveAlias(doc.Content[0])
	if isNull(root) {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: expected a mapping of config keys, got %s", name, root.Line, describeNode(root))
	}
	return root, nil
}

// baseRefs returns the entries of the _base_ key of root: a string or a
// list of strings.
func baseRefs(f file, root *yaml.Node) ([]string, error) {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "_base_" {
			continue
		}
		n := resolveAlias(root.Content[i+1])
		at := fmt.Sprintf("%s:%d", f, n.Line)
		switch {
		case isNull(n):
			return nil, nil
		case n.Kind == yaml.ScalarNode:
			return []string{n.Value}, nil
		case n.Kind == yaml.SequenceNode:
			refs := make([]string, 0, len(n.Content))
			for _, e := range n.Content {
				e = resolveAlias(e)
				if e.Kind != yaml.ScalarNode || e.Value == "" {
					return nil, fmt.Errorf("%s: _base_: expected file names, got %s", at, describeNode(e))
				}
				refs = append(refs, e.Value)
			}
			return refs, nil
		default:
			return nil, fmt.Errorf("%s: _base_: expected a file name or a list of them, got %s", at, describeNode(n))
		}
	}
	return nil, nil
}

// resolveBase finds the file a _base_ entry of f names (see Load).
func (l *loader) resolveBase(f file, ref string) (file, error) {
	withExt := ref
	if !hasYAMLExt(ref) {
		withExt = ref + ".yaml"
	}
	if f.embedded {
		for _, p := range []string{path.Join(path.Dir(f.path), withExt), path.Clean(withExt)} {
			if isFile(l.efs, p) {
				return file{embedded: true, path: p}, nil
			}
		}
		return file{}, fmt.Errorf("%s: _base_ %q: no such embedded config", f, ref)
	}
	p := withExt
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(f.path), filepath.FromSlash(withExt))
	}
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return file{path: p}, nil
	}
	if strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../") || filepath.IsAbs(ref) {
		return file{}, fmt.Errorf("%s: _base_ %q: no file %s", f, ref, p)
	}
	if ep := path.Clean(filepath.ToSlash(withExt)); isFile(l.efs, ep) {
		return file{embedded: true, path: ep}, nil
	}
	return file{}, fmt.Errorf("%s: _base_ %q: no file %s and no embedded config %q (embedded: %s)",
		f, ref, p, ref, strings.Join(names(l.efs), ", "))
}

// resolveTop finds the file Load was asked for.
func resolveTop(efs fs.FS, nameOrPath string) (file, error) {
	if !strings.ContainsAny(nameOrPath, `/\`) && !hasYAMLExt(nameOrPath) {
		if nameOrPath != stem(defaultsFile) && isFile(efs, nameOrPath+".yaml") {
			return file{embedded: true, path: nameOrPath + ".yaml"}, nil
		}
		known := names(efs)
		return file{}, fmt.Errorf("unknown config %q (did you mean %q?); embedded configs: %s; or give a path to a YAML file",
			nameOrPath, nearest(nameOrPath, known), strings.Join(known, ", "))
	}
	st, err := os.Stat(nameOrPath)
	if err != nil {
		return file{}, fmt.Errorf("read config: %w", err)
	}
	if st.IsDir() {
		return file{}, fmt.Errorf("read config %s: is a directory", nameOrPath)
	}
	return file{path: nameOrPath}, nil
}

func isFile(efs fs.FS, p string) bool {
	st, err := fs.Stat(efs, p)
	return err == nil && !st.IsDir()
}

func hasYAMLExt(p string) bool {
	return strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")
}

// stem is a file's name without folder and extension.
func stem(p string) string {
	base := filepath.Base(filepath.FromSlash(p))
	return strings.TrimSuffix(strings.TrimSuffix(base, ".yaml"), ".yml")
}
