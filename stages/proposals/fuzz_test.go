package proposals

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzImportBytes feeds arbitrary bytes to the pickle and JSON importers:
// they must return an error or proposals whose boxes and scores pair up,
// never panic.
func FuzzImportBytes(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.pkl"))
	more, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range append(files, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fp *fileProposals
		var err error
		switch sniff(data) {
		case "json":
			fp, err = importJSON(data)
		case "pickle":
			fp, err = importPickle(data, "")
		default:
			return
		}
		if err != nil {
			return
		}
		for i, e := range fp.entries {
			if len(e.boxes)%4 != 0 || (e.scores != nil && len(e.scores) != len(e.boxes)/4) {
				t.Fatalf("entry %d: %d coordinates, %d scores", i, len(e.boxes), len(e.scores))
			}
			finish(e.boxes, e.scored(), 100, 100, 0, 10)
		}
	})
}
