package query

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/report/reporttest"
	"github.com/detflow/detflow/storage"
)

// TestPrepare checks the view definitions in every build, cgo or not: the
// statements are compared with a golden file, the temporary and work
// folders replaced by $TMP and $WORK.
func TestPrepare(t *testing.T) {
	ctx := context.Background()
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	work, tmp := t.TempDir(), t.TempDir()
	reporttest.WriteZoo(t, fsys, work)
	c, err := report.Scan(ctx, fsys, work)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Prepare(ctx, fsys, c, tmp)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(s.Statements, ";\n") + ";\n"
	got = strings.ReplaceAll(strings.ReplaceAll(got, tmp, "$TMP"), work, "$WORK")
	p := filepath.Join("testdata", "setup.sql.golden")
	if os.Getenv("DETFLOW_GOLDEN") != "" {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("setup statements differ from %s:\n%s", p, got)
	}
	if len(s.Broken) != 0 {
		t.Errorf("broken views %v, want none", s.Broken)
	}
	for _, name := range []string{"proposals", "detections"} {
		if _, err := os.Stat(filepath.Join(tmp, "empty", name+".parquet")); err != nil {
			t.Errorf("no empty %s table: %v", name, err)
		}
	}
}

func TestLiteral(t *testing.T) {
	tests := []struct{ in, want string }{
		{"runs", "'runs'"},
		{"it's", "'it''s'"},
		{"", "''"},
	}
	for _, tt := range tests {
		if got := literal(tt.in); got != tt.want {
			t.Errorf("literal(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestViewWithoutRowType: a view whose table has no row type in schemas and
// no file in any run is an error naming the table, not an empty view.
func TestViewWithoutRowType(t *testing.T) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	work := t.TempDir()
	reporttest.WriteZoo(t, fsys, work)
	c, err := report.Scan(ctx, fsys, work)
	if err != nil {
		t.Fatal(err)
	}
	known := knownTables()
	delete(known, "detections")
	s := buildSetup(c, map[string]string{}, map[string]string{}, known)
	if err := s.Broken["detections"]; err == nil || !strings.Contains(err.Error(), "has a detections table yet") {
		t.Errorf("detections without a row type: %v", err)
	}
}
