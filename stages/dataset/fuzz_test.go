package dataset

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzValidate feeds arbitrary bytes as the annotations file: Validate must
// return an error or a report, never panic.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(`{"images":[{"id":1,"file_name":"a.jpg","width":4,"height":4}],"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,1]}],"categories":[{"id":1}]}`))
	f.Add([]byte(`{"annotations":[{"bbox":[NaN,-Infinity,Infinity,"x"]}]}`))
	f.Add([]byte(`{"images":[{"file_name":"../../x"},{"id":1e30}]}`))
	f.Add([]byte(`[`))
	dir := f.TempDir()
	fsys := localFS(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "instances.json")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Validate(context.Background(), fsys, ValidateOptions{Annotations: p, ImageRoot: dir, Workers: 1})
		if err == nil {
			_ = r.String()
			_ = r.Err()
		}
	})
}

// FuzzFileNameRule checks the promise behind the file_name rules: a name
// that passes is relative and, joined to any root, stays under it.
func FuzzFileNameRule(f *testing.F) {
	for _, s := range []string{"a.jpg", "../a", "a/../../b", `..\x`, "/x", "./a", "a//b", "c:x", ".."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if fileNameRule(name) != "" {
			return
		}
		root := filepath.FromSlash("/data/root")
		full := filepath.Join(root, name)
		rel, err := filepath.Rel(root, full)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || full == root {
			t.Errorf("accepted %q escapes the root: %q", name, full)
		}
		if filepath.ToSlash(rel) != name {
			t.Errorf("accepted %q is not clean: joins as %q", name, rel)
		}
	})
}
