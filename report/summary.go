package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/detflow/detflow/schemas"
)

// cocoStat is one line of COCOeval.summarize() for bbox or segm.
type cocoStat struct {
	metric  string
	ap      bool
	iou     string // "0.50:0.95", "0.50", "0.75"
	area    string
	maxDets int
}

// detectionStats are the 12 stats of a detection iou type (bbox, segm) in
// COCOeval's order and printout, named as package coco names their metric
// rows after the iou type's prefix ("bbox_", "segm_"), at COCO's default
// parameters.
var detectionStats = []cocoStat{
	{"mAP", true, "0.50:0.95", "all", 100},
	{"mAP_50", true, "0.50", "all", 100},
	{"mAP_75", true, "0.75", "all", 100},
	{"mAP_s", true, "0.50:0.95", "small", 100},
	{"mAP_m", true, "0.50:0.95", "medium", 100},
	{"mAP_l", true, "0.50:0.95", "large", 100},
	{"AR_1", false, "0.50:0.95", "all", 1},
	{"AR_10", false, "0.50:0.95", "all", 10},
	{"AR_100", false, "0.50:0.95", "all", 100},
	{"AR_s", false, "0.50:0.95", "small", 100},
	{"AR_m", false, "0.50:0.95", "medium", 100},
	{"AR_l", false, "0.50:0.95", "large", 100},
}

// detectionKind reports whether an iou type's rows are detectionStats.
func detectionKind(iouType string) bool { return iouType == "bbox" || iouType == "segm" }

// group is the metric rows of one measurement: one stage, data set, kind
// and checkpoint.
type group struct {
	stage, dataset, iouType, checkpoint string
	rows                                []schemas.Metric
}

// groupMetrics splits rows by measurement, ordered by stage, data set, kind
// and then first appearance.
func groupMetrics(rows []schemas.Metric) []*group {
	var gs []*group
	index := map[[4]string]*group{}
	for _, r := range rows {
		k := [4]string{r.Stage, r.Dataset, r.IoUType, r.Checkpoint}
		g := index[k]
		if g == nil {
			g = &group{stage: r.Stage, dataset: r.Dataset, iouType: r.IoUType, checkpoint: r.Checkpoint}
			index[k] = g
			gs = append(gs, g)
		}
		g.rows = append(g.rows, r)
	}
	sort.SliceStable(gs, func(i, j int) bool {
		a, b := gs[i], gs[j]
		if a.stage != b.stage {
			return a.stage < b.stage
		}
		if a.dataset != b.dataset {
			return a.dataset < b.dataset
		}
		return kindRank(a.iouType) < kindRank(b.iouType)
	})
	return gs
}

// kindRank orders a measurement's kinds: accuracy first, then speed.
func kindRank(iouType string) int {
	switch iouType {
	case "bbox":
		return 0
	case "segm":
		return 1
	case "proposal":
		return 2
	case "":
		return 4
	}
	return 3
}

// WriteSummary prints a run's metrics: for each bbox or segm evaluation the 12
// stats in pycocotools' layout and the per-category AP, for proposals their
// average recall, and the speed and memory figures.
func WriteSummary(w io.Writer, run *Run, rows []schemas.Metric) error {
	var b strings.Builder
	fmt.Fprintf(&b, "run %s (pipeline %s, config %s)\n", run.Name, orDash(run.Info.Pipeline), orDash(run.Info.Config))
	if len(rows) == 0 {
		b.WriteString("no metrics yet: no published stage of this run wrote a metrics table\n")
	}
	for _, g := range groupMetrics(rows) {
		b.WriteString("\n")
		b.WriteString(g.title())
		b.WriteString("\n")
		if detectionKind(g.iouType) {
			writeDetection(&b, g.iouType+"_", g.rows)
		} else {
			writeValues(&b, g.rows)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (g *group) title() string {
	var what string
	switch g.iouType {
	case "proposal":
		what = "proposal recall"
	case "":
		what = "speed and memory"
	default:
		what = g.iouType
	}
	parts := []string{"stage " + orDash(g.stage)}
	if g.dataset != "" {
		parts = append(parts, "data "+g.dataset)
	}
	if g.checkpoint != "" {
		parts = append(parts, "checkpoint "+g.checkpoint)
	}
	return fmt.Sprintf("%s (%s):", what, strings.Join(parts, ", "))
}

// writeDetection prints the COCO stats present (metrics named prefix +
// stat) in pycocotools' exact layout, then the rows it does not know
// (per-category AP) as name = value.
func writeDetection(b *strings.Builder, prefix string, rows []schemas.Metric) {
	known := map[string]bool{}
	for _, s := range detectionStats {
		known[prefix+s.metric] = true
		r, ok := Pick(rows, prefix+s.metric)
		if !ok {
			continue
		}
		title, typ := "Average Precision", "(AP)"
		if !s.ap {
			title, typ = "Average Recall", "(AR)"
		}
		fmt.Fprintf(b, " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3d ] = %0.3f\n", title, typ, s.iou, s.area, s.maxDets, r.Value)
	}
	var rest []schemas.Metric
	for _, r := range rows {
		if !known[r.Metric] {
			rest = append(rest, r)
		}
	}
	writeValues(b, rest)
}

// writeValues prints name = value lines, names aligned.
func writeValues(b *strings.Builder, rows []schemas.Metric) {
	width := 0
	for _, r := range rows {
		width = max(width, len(r.Metric))
	}
	for _, r := range rows {
		fmt.Fprintf(b, " %-*s = %s\n", width, r.Metric, formatValue(r.Metric, r.Value))
	}
}

// formatValue prints fractions (AP, AR) with pycocotools' 3 decimals and
// other figures with 4 significant digits.
func formatValue(metric string, v float64) string {
	if strings.HasPrefix(metric, "bbox_") || strings.HasPrefix(metric, "segm_") || strings.HasPrefix(metric, "AP") || strings.HasPrefix(metric, "AR") {
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	if math.Abs(v) >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
