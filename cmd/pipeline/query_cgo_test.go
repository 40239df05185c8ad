//go:build cgo

package main

import (
	"strings"
	"testing"
)

func TestQueryCommand(t *testing.T) {
	work := fixtureWorkdir(t)
	code, out, errOut := pipeline(t, "query", "--workdir", work, "--format", "csv",
		"select run, round(value, 4) as ap from metrics where metric = 'bbox_mAP' and checkpoint like 'epoch_1%.safetensors' order by run")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	want := "run,ap\nfast_rcnn_tiny_synth,0.052\nfaster_rcnn_r50_fpn_1x,0.3641\n"
	if out != want {
		t.Errorf("query output %q, want %q", out, want)
	}
}

func TestQueryOfRealRun(t *testing.T) {
	work := realRun(t)
	code, out, errOut := pipeline(t, "query", "--workdir", work, "--format", "csv", `
		select (select count(*) from proposals) as images,
		       (select count(*) from proposals where len(scores) > 0) as with_proposals,
		       (select count(*) from metrics where metric = 'AR@1000') as ar_rows,
		       (select string_agg(stage, ',' order by stage) from stages) as stages,
		       (select pipeline from runs) as pipeline`)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	if want := "images,with_proposals,ar_rows,stages,pipeline\n3,3,2,\"dataset,proposals\",fast_rcnn_with_proposals\n"; out != want {
		t.Errorf("query over a real run: %q, want %q", out, want)
	}
}

func TestQueryErrorsCommand(t *testing.T) {
	work := fixtureWorkdir(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"query", "--workdir", t.TempDir(), "select * from runs"}, "no runs in"},
		{[]string{"query", "--workdir", work, "select * form runs"}, "Parser Error"},
		{[]string{"query", "--workdir", work, "select nope from detections"}, `"nope" not found`},
	}
	for _, tt := range tests {
		code, _, errOut := pipeline(t, tt.args...)
		if code != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("pipeline %v: code %d, stderr %q; want %q", tt.args, code, errOut, tt.want)
		}
	}
}
