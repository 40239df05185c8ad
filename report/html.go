package report

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html/template"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/rundir"
	"github.com/detflow/detflow/storage"
	"github.com/detflow/detflow/zoo"
)

// ReportName is the report's file in the run folder.
const ReportName = "report.html"

// HTMLOptions shape the run report.
type HTMLOptions struct {
	Out      string  // the HTML file; default RUN/report.html
	Samples  int     // images drawn with their detections
	Score    float64 // drawn detections and the confusion matrix score at least this
	IoU      float64 // the confusion matrix's IoU threshold
	Progress func(step string, done, total int)
}

// report is what the template renders.
type report struct {
	Run        *Run
	Generated  string
	Stages     []stageRow
	BaseConfig string
	ConfigNote string // why there is no diff, when there is none
	Changes    []configs.Change
	Metrics    []metricRow
	ClassAP    []metricRow
	Plots      []figure
	Errors     []figure // all categories first
	Confusion  *figure
	Samples    []figure
	Notes      []string // sections left out, and why
	Artifacts  []link
}

type stageRow struct {
	Name, Outcome, Finished, Took string
	Outputs                       []link
}

type metricRow struct {
	Name  string
	Value string
}

type figure struct {
	Caption string
	Src     template.URL // a data: URI
	Href    string       // the file, relative to the report
}

type link struct {
	Text, Href string
}

// WriteHTML writes one self-contained HTML page about run r: its stages,
// config changes against the config it was started from, metrics and
// per-class AP, training curves, error analysis and confusion matrix
// (written into the run's analysis folder as well), sample detections and
// links to every artifact. Every picture is inlined as a data: URI and a
// Content-Security-Policy forbids any fetch, so the page shows the same
// offline, mailed or archived. It returns the file written.
func WriteHTML(ctx context.Context, fsys *storage.FS, c *Catalog, r *Run, opt HTMLOptions) (string, error) {
	out := opt.Out
	if out == "" {
		out = storage.Join(r.Dir, ReportName)
	}
	rep := &report{Run: r, Generated: time.Now().UTC().Format(time.RFC3339)}
	steps := []func(context.Context, *storage.FS, *Catalog, *report, string, HTMLOptions) error{
		addStages, addConfigDiff, addMetrics, addPlots, addEvaluation, addArtifacts,
	}
	for _, step := range steps {
		if err := step(ctx, fsys, c, rep, out, opt); err != nil {
			return "", err
		}
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, rep); err != nil {
		return "", fmt.Errorf("render report of run %q: %w", r.Name, err)
	}
	if _, err := fsys.WriteFile(ctx, out, b.Bytes()); err != nil {
		return "", fmt.Errorf("write report: %w", err)
	}
	return out, nil
}

// addStages lists the pipeline's stages in order, with those published
// outside it (if any) after them.
func addStages(_ context.Context, _ *storage.FS, _ *Catalog, rep *report, out string, _ HTMLOptions) error {
	r := rep.Run
	var names []string
	if p, err := zoo.LookupPipeline(r.Info.Pipeline); err == nil {
		names = append(names, p.Stages...)
	}
	for _, s := range r.Stages {
		if !contains(names, s.Name) {
			names = append(names, s.Name)
		}
	}
	for _, name := range names {
		row := stageRow{Name: name, Outcome: "not run", Finished: "-", Took: "-"}
		for _, s := range r.Stages {
			if s.Name != name {
				continue
			}
			m := s.Manifest
			row.Outcome = "published"
			row.Finished = m.Finished.UTC().Format(time.DateTime)
			row.Took = (time.Duration(m.Seconds*1000) * time.Millisecond).Round(100 * time.Millisecond).String()
			row.Outputs = outputLinks(out, storage.Join(r.Dir, name), m.Outputs)
		}
		if rec, ok := r.Info.Stages[name]; ok && row.Outcome == "not run" {
			row.Outcome = "recorded in run.json, but its folder is not published"
			row.Finished = rec.Finished.UTC().Format(time.DateTime)
		}
		rep.Stages = append(rep.Stages, row)
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// artifactLink links an output file relative to the report when both are
// local, by its full path otherwise.
func artifactLink(report, stageDir string, o rundir.Output) link {
	p := storage.Join(stageDir, o.Path)
	return link{Text: fmt.Sprintf("%s (%s)", o.Path, byteSize(o.Size)), Href: relativeHref(report, p)}
}

// folderListMax is how many files of one subfolder the stage table lists
// one by one; a larger folder (the data set's images, record shards) is
// one link with its file count and size, so the table stays readable.
const folderListMax = 8

// outputLinks links a stage's outputs, a large subfolder as one link.
func outputLinks(report, stageDir string, outputs []rundir.Output) []link {
	count := map[string]int{}
	size := map[string]int64{}
	for _, o := range outputs {
		if dir, _, ok := strings.Cut(o.Path, "/"); ok {
			count[dir]++
			size[dir] += o.Size
		}
	}
	var links []link
	linked := map[string]bool{}
	for _, o := range outputs {
		dir, _, ok := strings.Cut(o.Path, "/")
		switch {
		case !ok || count[dir] <= folderListMax:
			links = append(links, artifactLink(report, stageDir, o))
		case !linked[dir]:
			links = append(links, link{Text: fmt.Sprintf("%s/ (%d files, %s)", dir, count[dir], byteSize(size[dir])),
				Href: relativeHref(report, storage.Join(stageDir, dir))})
			linked[dir] = true
		}
	}
	return links
}

func relativeHref(report, p string) string {
	if storage.IsGCS(report) || storage.IsGCS(p) {
		return p
	}
	rel, err := filepath.Rel(filepath.Dir(report), p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(rel)
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// addConfigDiff compares the run's resolved config with the config it
// was started from (run.json's config, with no --set).
func addConfigDiff(ctx context.Context, fsys *storage.FS, _ *Catalog, rep *report, _ string, _ HTMLOptions) error {
	r := rep.Run
	rep.BaseConfig = r.Info.Config
	base, err := configs.Load(r.Info.Config, nil)
	if err != nil {
		rep.ConfigNote = fmt.Sprintf("no diff: the base config cannot be loaded here: %v", err)
		return nil
	}
	local, cleanup, err := fsys.Localize(ctx, storage.Join(r.Dir, rundir.ConfigName))
	if err != nil {
		return fmt.Errorf("run %q: %w", r.Name, err)
	}
	defer cleanup()
	cur, err := configs.Load(local, nil)
	if err != nil {
		return fmt.Errorf("run %q: read its %s: %w", r.Name, rundir.ConfigName, err)
	}
	bv, err := base.Values()
	if err != nil {
		return err
	}
	cv, err := cur.Values()
	if err != nil {
		return err
	}
	rep.Changes = configs.Diff(bv, cv)
	if len(rep.Changes) == 0 {
		rep.ConfigNote = "the run uses its base config unchanged"
	}
	return nil
}

// addMetrics picks the run's COCO summary and per-class AP.
func addMetrics(ctx context.Context, fsys *storage.FS, c *Catalog, rep *report, _ string, _ HTMLOptions) error {
	rows, err := ReadMetrics(ctx, fsys, c, rep.Run.Name)
	if err != nil {
		return err
	}
	for _, prefix := range []string{"bbox_", "segm_"} {
		for _, s := range detectionStats {
			if m, ok := Pick(rows, prefix+s.metric); ok {
				rep.Metrics = append(rep.Metrics, metricRow{prefix + s.metric, fmt.Sprintf("%.3f", m.Value)})
			}
		}
	}
	for _, n := range []string{"AR@100", "AR@300", "AR@1000"} {
		if m, ok := Pick(rows, n); ok {
			rep.Metrics = append(rep.Metrics, metricRow{n, fmt.Sprintf("%.3f", m.Value)})
		}
	}
	seen := map[string]bool{}
	for _, m := range rows {
		if strings.HasPrefix(m.Metric, "AP/") && !seen[m.Metric] {
			seen[m.Metric] = true
			best, _ := Pick(rows, m.Metric)
			v := fmt.Sprintf("%.3f", best.Value)
			if best.Value < 0 {
				v = "no ground truth"
			}
			rep.ClassAP = append(rep.ClassAP, metricRow{strings.TrimPrefix(m.Metric, "AP/"), v})
		}
	}
	sort.Slice(rep.ClassAP, func(i, j int) bool { return rep.ClassAP[i].Name < rep.ClassAP[j].Name })
	if len(rep.Metrics) == 0 {
		rep.Notes = append(rep.Notes, "no metrics: the run has not evaluated anything yet")
	}
	return nil
}

// addPlots draws the loss and mAP curves with the same plots as `pipeline plot`.
func addPlots(ctx context.Context, fsys *storage.FS, c *Catalog, rep *report, _ string, _ HTMLOptions) error {
	r := rep.Run
	log, err := ReadTrainLog(ctx, fsys, c, r.Name)
	if err != nil {
		return err
	}
	if len(log) == 0 {
		rep.Notes = append(rep.Notes, "no training curves: the run has no train_log table")
		return nil
	}
	loss, err := lossPlot(r.Name, log)
	if err != nil {
		return err
	}
	metrics, err := ReadMetrics(ctx, fsys, c, r.Name)
	if err != nil {
		return err
	}
	mAP, err := mAPPlot(r.Name, metrics)
	if err != nil {
		return err
	}
	for _, p := range []struct {
		caption string
		plot    *plot.Plot
	}{{"training loss", loss}, {"bbox AP by epoch", mAP}} {
		if p.plot == nil {
			continue
		}
		b, err := renderPNG(p.plot, p.caption)
		if err != nil {
			return err
		}
		rep.Plots = append(rep.Plots, figure{Caption: p.caption, Src: dataURI(b)})
	}
	return nil
}

// addEvaluation writes the analysis folder and draws sample detections;
// a run without a published dataset and evaluate stage gets a note.
func addEvaluation(ctx context.Context, fsys *storage.FS, c *Catalog, rep *report, out string, opt HTMLOptions) error {
	r := rep.Run
	if !r.HasStage(datasetStage) || !r.HasStage(evaluateStage) {
		rep.Notes = append(rep.Notes, "no error analysis, confusion matrix or sample detections: they need the published dataset and evaluate stages")
		return nil
	}
	d, err := LoadEvalData(ctx, fsys, r, evalSplit, true)
	if err != nil {
		return err
	}
	dir := storage.Join(r.Dir, AnalysisDir)
	files, err := WriteAnalysis(ctx, fsys, d, dir, AnalysisOptions{Score: opt.Score, IoU: opt.IoU,
		Progress: func(done, total int) { progressStep(opt, "error analysis", done, total) }})
	if err != nil {
		return err
	}
	for _, f := range files {
		if !strings.HasSuffix(f, ".png") {
			continue
		}
		b, err := fsys.ReadFile(ctx, f)
		if err != nil {
			return fmt.Errorf("read analysis: %w", err)
		}
		fig := figure{Caption: strings.TrimSuffix(path.Base(f), ".png"), Src: dataURI(b), Href: relativeHref(out, f)}
		if path.Base(f) == ConfusionPNG {
			rep.Confusion = &fig
			continue
		}
		rep.Errors = append(rep.Errors, fig)
	}
	pics, err := Show(ctx, fsys, d, ShowOptions{Images: opt.Samples, Score: opt.Score,
		Progress: func(done, total int) { progressStep(opt, "sample detections", done, total) }})
	if err != nil {
		return err
	}
	for _, p := range pics {
		rep.Samples = append(rep.Samples, figure{Caption: fmt.Sprintf("image %d", p.ImageID), Src: dataURI(p.PNG)})
	}
	if _, ok := d.Dets[coco.BBox]; !ok {
		rep.Notes = append(rep.Notes, "no confusion matrix: the run wrote no bbox results")
	}
	return nil
}

func progressStep(opt HTMLOptions, step string, done, total int) {
	if opt.Progress != nil {
		opt.Progress(step, done, total)
	}
}

// addArtifacts links the run's own files and its analysis folder.
func addArtifacts(ctx context.Context, fsys *storage.FS, _ *Catalog, rep *report, out string, _ HTMLOptions) error {
	r := rep.Run
	for _, name := range []string{rundir.InfoName, rundir.ConfigName} {
		rep.Artifacts = append(rep.Artifacts, link{Text: name, Href: relativeHref(out, storage.Join(r.Dir, name))})
	}
	entries, err := fsys.List(ctx, storage.Join(r.Dir, AnalysisDir))
	if err != nil {
		return nil // no analysis folder: nothing to link
	}
	for _, e := range entries {
		if !e.IsDir {
			p := storage.Join(r.Dir, AnalysisDir, e.Name)
			rep.Artifacts = append(rep.Artifacts, link{Text: AnalysisDir + "/" + e.Name, Href: relativeHref(out, p)})
		}
	}
	return nil
}

func dataURI(png []byte) template.URL {
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}

// renderPNG renders a plot at the size `pipeline plot` writes.
func renderPNG(p *plot.Plot, what string) ([]byte, error) {
	wt, err := p.WriterTo(plotWidth, plotHeight, "png")
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", what, err)
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("render %s: %w", what, err)
	}
	return b.Bytes(), nil
}

// pageTemplate is the report. No script and no external resource: the
// Content-Security-Policy makes the browser refuse any fetch.
var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>detflow run {{.Run.Name}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; background: #fff; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; } th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f4f8; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; border: 1px solid #ddd; } figure { margin: 0.8em 0; } figcaption { color: #555; font-size: 0.9em; }
.meta { color: #555; } .note { color: #8a5a00; } code { background: #f4f4f4; padding: 0 0.2em; }
</style>
</head>
<body>
<h1>Run {{.Run.Name}}</h1>
<p class="meta">pipeline <code>{{.Run.Info.Pipeline}}</code>, config <code>{{.Run.Info.Config}}</code>, created {{.Run.Info.Created.UTC.Format "2006-01-02 15:04:05"}}, updated {{.Run.Info.Updated.UTC.Format "2006-01-02 15:04:05"}}, detflow {{.Run.Info.Detflow}}; report generated {{.Generated}}</p>
<p class="meta">command: <code>{{range .Run.Info.Command}}{{.}} {{end}}</code></p>
<nav><a href="#stages">stages</a> · <a href="#config">config</a> · <a href="#metrics">metrics</a> · <a href="#curves">curves</a> · <a href="#errors">error analysis</a> · <a href="#confusion">confusion matrix</a> · <a href="#samples">samples</a> · <a href="#artifacts">artifacts</a></nav>
{{range .Notes}}<p class="note">{{.}}</p>
{{end}}
<section id="stages"><h2>Stages</h2>
<table><thead><tr><th>stage</th><th>outcome</th><th>finished (UTC)</th><th>time</th><th>outputs</th></tr></thead><tbody>
{{range .Stages}}<tr><td>{{.Name}}</td><td>{{.Outcome}}</td><td>{{.Finished}}</td><td class="num">{{.Took}}</td><td>{{range .Outputs}}<a href="{{.Href}}">{{.Text}}</a><br>{{end}}</td></tr>
{{end}}</tbody></table></section>
<section id="config"><h2>Config changes against {{.BaseConfig}}</h2>
{{if .Changes}}<table><thead><tr><th>key</th><th>{{.BaseConfig}}</th><th>this run</th></tr></thead><tbody>
{{range .Changes}}<tr><td><code>{{.Key}}</code></td><td>{{if .Added}}(absent){{else}}{{.Old}}{{end}}</td><td>{{if .Removed}}(absent){{else}}{{.New}}{{end}}</td></tr>
{{end}}</tbody></table>{{else}}<p>{{.ConfigNote}}</p>{{end}}</section>
<section id="metrics"><h2>Metrics</h2>
{{if .Metrics}}<table><tbody>{{range .Metrics}}<tr><th>{{.Name}}</th><td class="num">{{.Value}}</td></tr>{{end}}</tbody></table>{{else}}<p>none yet</p>{{end}}
{{if .ClassAP}}<h3>AP per class (IoU .50:.95)</h3>
<table><thead><tr><th>class</th><th>AP</th></tr></thead><tbody>{{range .ClassAP}}<tr><td>{{.Name}}</td><td class="num">{{.Value}}</td></tr>{{end}}</tbody></table>{{end}}</section>
<section id="curves"><h2>Training curves</h2>
{{range .Plots}}<figure><img src="{{.Src}}" alt="{{.Caption}}"><figcaption>{{.Caption}}</figcaption></figure>
{{else}}<p>none</p>{{end}}</section>
<section id="errors"><h2>Error analysis</h2>
<p>Precision/recall as coco_error_analysis draws it: C75 and C50 are PR at IoU .75 and .50; Loc at IoU .10 (localisation errors forgiven); Sim and Oth also ignore detections on objects of the same supercategory or of any category; BG removes every other false positive and FN finds every object. The legend gives each curve's AP.</p>
{{range $i, $f := .Errors}}{{if eq $i 1}}<details><summary>per category</summary>
{{end}}<figure><img src="{{$f.Src}}" alt="{{$f.Caption}}"><figcaption><a href="{{$f.Href}}">{{$f.Caption}}</a></figcaption></figure>
{{end}}{{if gt (len .Errors) 1}}</details>{{end}}{{if not .Errors}}<p>none</p>{{end}}</section>
<section id="confusion"><h2>Confusion matrix</h2>
{{with .Confusion}}<figure><img src="{{.Src}}" alt="confusion matrix"><figcaption><a href="{{.Href}}">{{.Caption}}</a></figcaption></figure>{{else}}<p>none</p>{{end}}</section>
<section id="samples"><h2>Sample detections</h2>
{{range .Samples}}<figure><img src="{{.Src}}" alt="{{.Caption}}"><figcaption>{{.Caption}}</figcaption></figure>
{{else}}<p>none</p>{{end}}</section>
<section id="artifacts"><h2>Artifacts</h2>
<ul>{{range .Artifacts}}<li><a href="{{.Href}}">{{.Text}}</a></li>{{end}}</ul>
<p>Stage outputs are linked in the stage table.</p></section>
</body>
</html>
`))
