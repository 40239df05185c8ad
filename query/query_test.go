//go:build cgo

package query_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detflow/detflow/query"
	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/report/reporttest"
	"github.com/detflow/detflow/storage"
)

var update = flag.Bool("golden", false, "rewrite testdata/*.golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	reporttest.Golden(t, *update, name, got)
}

func workdir(t *testing.T) (*storage.FS, string) {
	t.Helper()
	fsys, err := storage.New(context.Background(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	reporttest.WriteZoo(t, fsys, work)
	return fsys, work
}

func TestQueries(t *testing.T) {
	fsys, work := workdir(t)
	tests := []struct {
		name, sql string
	}{
		{"runs", "select run, pipeline, config, created, updated from runs order by run"},
		{"stages", "select run, stage, version, outputs, seconds, bytes > 0 as has_bytes from stages order by run, stage"},
		{"best_ap", `select m.run, round(m.value, 4) as box_ap, s.value as s_per_iter
			from metrics m join metrics s on s.run = m.run and s.metric = 'train_s_per_iter'
			where m.metric = 'bbox_mAP' and m.checkpoint = (select max(checkpoint) from metrics x where x.run = m.run and x.metric = 'bbox_mAP')
			order by box_ap desc`},
		{"train_log", "select run, epoch, step, round(loss, 4) as loss, losses[1].name as first_loss from train_log order by step limit 3"},
		{"empty_proposals", "select count(*) as n from proposals"},
		{"empty_detections", "select * from detections"},
		{"metric_columns", "select column_name, column_type from (describe metrics)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, err := query.Run(context.Background(), fsys, work, tt.sql)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := tab.Write(&b, report.FormatTable); err != nil {
				t.Fatal(err)
			}
			golden(t, "query_"+tt.name+".golden", b.Bytes())
		})
	}
}

func TestQueryFormats(t *testing.T) {
	fsys, work := workdir(t)
	tab, err := query.Run(context.Background(), fsys, work,
		"select run, metric, value, created from metrics where metric in ('AR@1000', 'train_s_per_iter') and dataset <> 'train' order by run, metric")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []report.Format{report.FormatTable, report.FormatCSV, report.FormatJSON, report.FormatMarkdown} {
		var b bytes.Buffer
		if err := tab.Write(&b, f); err != nil {
			t.Fatal(err)
		}
		golden(t, "query_formats."+string(f)+".golden", b.Bytes())
	}
}

func TestQueryErrors(t *testing.T) {
	fsys, work := workdir(t)
	old := t.TempDir()
	reporttest.WriteRun(t, fsys, old, reporttest.Run{
		Name: "old", Pipeline: "fast_rcnn_with_proposals", Config: "fast_rcnn_tiny_synth",
		Stages: []reporttest.Stage{
			{Name: "evaluate", Extra: map[string][]byte{"metrics.parquet": reporttest.OldMetrics("old")}},
			{Name: "train", TrainLog: reporttest.TrainLog("old", 1, 1, 10)},
		},
	})
	tests := []struct {
		name, workdir, sql string
		want               []string
	}{
		{"empty workdir", t.TempDir(), "select * from runs", []string{"no runs in", "pipeline run"}},
		{"missing workdir", filepath.Join(work, "nope"), "select * from runs", []string{"no runs in"}},
		{"bad sql", work, "selec * from runs", []string{"run query", "syntax error"}},
		{"unknown column", work, "select nope from metrics", []string{"run query", "nope"}},
		{"unknown table", work, "select * from nope", []string{"run query", "nope"}},
		{"old schema", old, "select * from metrics", []string{"view metrics", "schema version 0", "reads version 1", "metrics.parquet"}},
		{"empty query", work, "  ", []string{"empty query"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := query.Run(context.Background(), fsys, tt.workdir, tt.sql)
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v, want it to contain %q", err, w)
				}
			}
		})
	}
	// The other views of a work directory with an old table still work.
	tab, err := query.Run(context.Background(), fsys, old, "select count(*) from train_log")
	if err != nil || len(tab.Rows) != 1 {
		t.Errorf("train_log beside an old metrics table: %v", err)
	}
	_, err = query.Run(context.Background(), fsys, t.TempDir(), "select 1")
	if !errors.Is(err, report.ErrNoRuns) {
		t.Errorf("empty workdir: %v, want ErrNoRuns", err)
	}
}
