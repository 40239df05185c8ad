package report_test

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/detflow/detflow/report"
)

func TestTableFormats(t *testing.T) {
	tab := &report.Table{
		Columns: []string{"run", "metric", "value", "n", "created", "losses", "note"},
		Rows: [][]any{
			{"a", "bbox_mAP", 0.1 + 0.2, int64(3), time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC),
				[]any{map[string]any{"name": "loss_cls", "value": 0.5}}, "pipe | and\nnewline"},
			{"longer_run_name", "AR@1000", math.NaN(), nil, time.Date(2026, 11, 27, 6, 0, 1, 500e6, time.UTC), nil, `quote "x", comma`},
		},
	}
	for _, f := range []report.Format{report.FormatTable, report.FormatCSV, report.FormatJSON, report.FormatMarkdown} {
		var b bytes.Buffer
		if err := tab.Write(&b, f); err != nil {
			t.Fatal(err)
		}
		golden(t, "formats."+string(f)+".golden", b.Bytes())
	}
	empty := &report.Table{Columns: []string{"x"}}
	var b bytes.Buffer
	if err := empty.Write(&b, report.FormatJSON); err != nil || b.String() != "[]\n" {
		t.Errorf("empty JSON: %q, %v", b.String(), err)
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"table", "csv", "json", "markdown"} {
		if f, err := report.ParseFormat(s); err != nil || string(f) != s {
			t.Errorf("ParseFormat(%q) = %q, %v", s, f, err)
		}
	}
	if _, err := report.ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("ParseFormat(xml): %v", err)
	}
}
