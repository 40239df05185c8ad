package report

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/detflow/detflow/rundir"
)

// TestOutputLinksFoldLargeFolders: a stage's many images are one link
// with their count and size; small folders and top-level files stay listed.
func TestOutputLinksFoldLargeFolders(t *testing.T) {
	var outs []rundir.Output
	outs = append(outs, rundir.Output{Path: "dataset.json", Size: 300})
	for i := range folderListMax + 2 {
		outs = append(outs, rundir.Output{Path: fmt.Sprintf("train/%03d.jpg", i), Size: 1024})
	}
	outs = append(outs, rundir.Output{Path: "annotations/a.json", Size: 10}, rundir.Output{Path: "annotations/b.json", Size: 20})
	var got []string
	for _, l := range outputLinks("/w/report.html", "/w/run/dataset", outs) {
		got = append(got, l.Text+" -> "+l.Href)
	}
	want := []string{
		"dataset.json (300 B) -> run/dataset/dataset.json",
		"train/ (10 files, 10.0 KiB) -> run/dataset/train",
		"annotations/a.json (10 B) -> run/dataset/annotations/a.json",
		"annotations/b.json (20 B) -> run/dataset/annotations/b.json",
	}
	if !slices.Equal(got, want) {
		t.Errorf("links:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
