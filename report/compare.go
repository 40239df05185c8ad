package report

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/detflow/detflow/schemas"
)

// speedMetrics are the speed and memory figures, in the order the model zoo
// lists them.
var speedMetrics = []string{"train_s_per_iter", "train_images_per_s", "train_peak_memory_mb", "inference_images_per_s"}

// Compare puts runs side by side: one row per metric any of them reports
// (COCO bbox stats first, then proposal recall, speed and memory, then the
// rest by name), one column per run, each value chosen by Pick and rounded
// for reading (fractions to 3 decimals as pycocotools prints them, other
// figures to 4 significant digits). A metric a run lacks is null ("-").
func Compare(runs []string, rows map[string][]schemas.Metric) *Table {
	t := &Table{Columns: append([]string{"metric"}, runs...), Null: "-"}
	for _, m := range metricOrder(rows) {
		row := []any{m}
		for _, run := range runs {
			r, ok := Pick(rows[run], m)
			if !ok {
				row = append(row, nil)
				continue
			}
			row = append(row, roundForReading(m, r.Value))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// metricOrder lists every metric name in rows in reading order.
func metricOrder(rows map[string][]schemas.Metric) []string {
	seen := map[string]bool{}
	for _, rs := range rows {
		for _, r := range rs {
			seen[r.Metric] = true
		}
	}
	var order []string
	take := func(m string) {
		if seen[m] {
			order = append(order, m)
			delete(seen, m)
		}
	}
	for _, prefix := range []string{"bbox_", "segm_"} {
		for _, s := range detectionStats {
			take(prefix + s.metric)
		}
	}
	var recall, rest []string
	for m := range seen {
		if strings.HasPrefix(m, "AR") {
			recall = append(recall, m)
		} else if !slices.Contains(speedMetrics, m) {
			rest = append(rest, m)
		}
	}
	sort.Slice(recall, func(i, j int) bool { return recallKey(recall[i]) < recallKey(recall[j]) })
	sort.Strings(rest)
	for _, m := range recall {
		take(m)
	}
	for _, m := range speedMetrics {
		take(m)
	}
	for _, m := range rest {
		take(m)
	}
	return order
}

// recallKey orders AR@100 < AR@300 < AR@1000 < AR_s@1000 < AR_m@1000 <
// AR_l@1000, as package coco writes them.
func recallKey(m string) string {
	area, dets, _ := strings.Cut(strings.TrimPrefix(m, "AR"), "@")
	n, _ := strconv.Atoi(dets)
	rank := map[string]string{"": "0", "_s": "1", "_m": "2", "_l": "3"}[area]
	if rank == "" {
		rank = "4" + area
	}
	return rank + strconv.Itoa(100000000+n)
}

func roundForReading(metric string, v float64) float64 {
	s := formatValue(metric, v)
	r, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return v
	}
	return r
}
