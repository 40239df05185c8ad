package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
	"github.com/detflow/detflow/zoo"
)

// ZooEntry is one row of the model-zoo table: a run's model and schedule
// from its config.yaml and its figures from its metrics tables. Text fields
// are "-" when unknown; figures are NaN-free pointers, nil when missing.
type ZooEntry struct {
	Run      string
	Model    string // section title, e.g. "Fast R-CNN"
	Kind     string // Type column in a shared section ("Faster", "Mask"), or ""
	Backbone string // e.g. "R-50-FPN"
	Style    string // pytorch or caffe
	Schedule string // 1x, 2x, or <epochs>e
	MemGB    *float64
	SPerIter *float64
	FPS      *float64
	// Figures are the model type's accuracy columns (zoo.Model.Figures),
	// scaled as the model zoo prints them (box AP in percent).
	Figures []*float64
	// Columns name Figures: the registry's columns of the model type, or
	// box AP for a type it does not know.
	Columns []zoo.Column
}

// ZooEntries builds one entry per run of c, reading each run's config.yaml
// and metrics tables.
func ZooEntries(ctx context.Context, fsys *storage.FS, c *Catalog) ([]ZooEntry, error) {
	var out []ZooEntry
	for i := range c.Runs {
		run := &c.Runs[i]
		cfg, err := readRunConfig(ctx, fsys, run)
		if err != nil {
			return nil, err
		}
		rows, err := ReadMetrics(ctx, fsys, c, run.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, zooEntry(run, cfg, rows))
	}
	return out, nil
}

// Measured tells whether the run has any of the accuracy figures its table
// prints: a failed or never-evaluated run would be a row of dashes.
func (e ZooEntry) Measured() bool {
	for _, f := range e.Figures {
		if f != nil {
			return true
		}
	}
	return false
}

// MeasuredOnly keeps the entries that are Measured and counts the others.
func MeasuredOnly(entries []ZooEntry) (kept []ZooEntry, hidden int) {
	for _, e := range entries {
		if e.Measured() {
			kept = append(kept, e)
		} else {
			hidden++
		}
	}
	return kept, hidden
}

func zooEntry(run *Run, cfg map[string]any, rows []schemas.Metric) ZooEntry {
	model := zooModel(lookupString(cfg, "model.type"), run.Info.Pipeline)
	e := ZooEntry{
		Run:      run.Name,
		Model:    model.Title,
		Kind:     model.Kind,
		Columns:  model.Figures,
		Backbone: backboneName(cfg),
		Style:    orDash(lookupString(cfg, "model.backbone.style")),
		Schedule: scheduleName(cfg),
	}
	figure := func(metric string, scale float64) *float64 {
		r, ok := Pick(rows, metric)
		if !ok {
			return nil
		}
		v := r.Value * scale
		return &v
	}
	e.MemGB = figure("train_peak_memory_mb", 1.0/1024)
	e.SPerIter = figure("train_s_per_iter", 1)
	e.FPS = figure("inference_images_per_s", 1)
	for _, c := range model.Figures {
		e.Figures = append(e.Figures, figure(c.Metric, c.Scale))
	}
	if e.SPerIter == nil && lookupString(cfg, "model.load_from") != "" {
		e.Schedule = "load_from" // evaluated as released, not trained here
	}
	return e
}

// readRunConfig parses a run's resolved config.yaml; nil when it has none.
func readRunConfig(ctx context.Context, fsys *storage.FS, run *Run) (map[string]any, error) {
	p := storage.Join(run.Dir, "config.yaml")
	b, err := fsys.ReadFile(ctx, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config of run %s: %w", run.Name, err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("read config %s: %w", p, err)
	}
	return cfg, nil
}

// lookup follows a dotted key through nested maps.
func lookup(cfg map[string]any, key string) (any, bool) {
	var cur any = cfg
	for _, k := range strings.Split(key, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func lookupString(cfg map[string]any, key string) string {
	v, ok := lookup(cfg, key)
	if !ok || v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// zooModel is the registry's entry for a run's model type; a type it does
// not know (a run of another detflow version) gets its own section with the
// box AP column.
func zooModel(typ, pipeline string) zoo.Model {
	if m, ok := zoo.LookupModel(typ); ok {
		return m
	}
	title := typ
	if title == "" {
		title = pipeline
	}
	if title == "" {
		title = "unknown model"
	}
	return zoo.Model{Type: typ, Title: title, Figures: []zoo.Column{{Title: "box AP", Metric: "bbox_mAP", Scale: 100, Decimals: 1}}}
}

// backboneName writes a backbone as the model zoo does: R-50-FPN. A width
// other than ResNet's 64 base channels is noted, e.g. "R-18-FPN (0.5x width)".
func backboneName(cfg map[string]any) string {
	typ := lookupString(cfg, "model.backbone.type")
	depth := lookupString(cfg, "model.backbone.depth")
	if typ == "" {
		return "-"
	}
	prefix := map[string]string{"ResNet": "R", "ResNeXt": "X"}[typ]
	name := typ
	if prefix != "" && depth != "" {
		name = prefix + "-" + depth
	}
	if lookupString(cfg, "model.neck.type") == "FPN" {
		name += "-FPN"
	}
	if w, err := strconv.ParseFloat(lookupString(cfg, "model.backbone.base_channels"), 64); err == nil && w != 64 && w > 0 {
		name += fmt.Sprintf(" (%gx width)", w/64)
	}
	return name
}

// scheduleName is 1x for 12 epochs and 2x for 24, as the model zoo names
// them, otherwise the epochs with an e ("3e").
func scheduleName(cfg map[string]any) string {
	ep := lookupString(cfg, "train.epochs")
	switch ep {
	case "":
		return "-"
	case "12":
		return "1x"
	case "24":
		return "2x"
	}
	return ep + "e"
}

// zooColumns are MODEL_ZOO.md's columns before a model type's figures.
var zooColumns = []string{"Backbone", "Style", "Lr schd", "Mem (GB)", "Train time (s/iter)", "Inf time (fps)"}

// WriteZoo prints entries as MODEL_ZOO.md does: a "### Model" section per
// model type in the registry's order (MODEL_ZOO.md's: RPN, Faster R-CNN,
// ...), each a Markdown table with centred columns: the common ones, the
// model type's figures, and the run where MODEL_ZOO.md has its download.
func WriteZoo(w io.Writer, entries []ZooEntry) error {
	sections := map[string][]ZooEntry{}
	var titles []string
	for _, e := range entries {
		if _, ok := sections[e.Model]; !ok {
			titles = append(titles, e.Model)
		}
		sections[e.Model] = append(sections[e.Model], e)
	}
	sort.SliceStable(titles, func(i, j int) bool {
		a, b := sectionRank(titles[i]), sectionRank(titles[j])
		if a != b {
			return a < b
		}
		return titles[i] < titles[j]
	})
	var b strings.Builder
	for i, title := range titles {
		if i > 0 {
			b.WriteString("\n")
		}
		es := sections[title]
		sort.SliceStable(es, func(i, j int) bool {
			a, b := es[i], es[j]
			return less4([4]string{a.Backbone, a.Style, a.Schedule, a.Run}, [4]string{b.Backbone, b.Style, b.Schedule, b.Run})
		})
		fmt.Fprintf(&b, "### %s\n\n", title)
		writeZooTable(&b, es)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sectionRank orders sections as the registry orders model types; titles
// it does not know follow by name.
func sectionRank(title string) int {
	models := zoo.Models()
	for i, m := range models {
		if m.Title == title {
			return i
		}
	}
	return len(models)
}

func less4(a, b [4]string) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func writeZooTable(b *strings.Builder, es []ZooEntry) {
	// A section may hold several model types (Fast R-CNN's Faster and Mask
	// rows): it prints every figure column any of them has, and a Type
	// column when they say their kind.
	var cols []zoo.Column
	typed := false
	for _, e := range es {
		typed = typed || e.Kind != ""
		for _, c := range e.Columns {
			if !slices.ContainsFunc(cols, func(k zoo.Column) bool { return k.Metric == c.Metric }) {
				cols = append(cols, c)
			}
		}
	}
	header := []string{zooColumns[0]}
	if typed {
		header = append(header, "Type")
	}
	header = append(header, zooColumns[1:]...)
	for _, c := range cols {
		header = append(header, c.Title)
	}
	header = append(header, "Run")
	rows := [][]string{header}
	for _, e := range es {
		row := []string{e.Backbone}
		if typed {
			row = append(row, orDash(e.Kind))
		}
		row = append(row, e.Style, e.Schedule, fixed(e.MemGB, 1), fixed(e.SPerIter, 3), fixed(e.FPS, 1))
		for _, c := range cols {
			i := slices.IndexFunc(e.Columns, func(k zoo.Column) bool { return k.Metric == c.Metric })
			if i < 0 {
				row = append(row, "-")
				continue
			}
			row = append(row, fixed(e.Figures[i], c.Decimals))
		}
		rows = append(rows, append(row, e.Run))
	}
	width := make([]int, len(header))
	for _, r := range rows {
		for j, c := range r {
			width[j] = max(width[j], len(c), 3)
		}
	}
	line := func(cells []string) {
		b.WriteString("|")
		for j, c := range cells {
			fmt.Fprintf(b, " %-*s |", width[j], c)
		}
		b.WriteString("\n")
	}
	line(rows[0])
	rule := make([]string, len(header))
	for j := range rule {
		rule[j] = ":" + strings.Repeat("-", width[j]-2) + ":"
	}
	line(rule)
	for _, r := range rows[1:] {
		line(r)
	}
}

func fixed(v *float64, decimals int) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', decimals, 64)
}
