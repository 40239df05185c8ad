package storage

import "testing"

func TestPaths(t *testing.T) {
	cases := []struct {
		name      string
		got, want string
	}{
		{"join gcs", Join("gs://b", "x", "y.txt"), "gs://b/x/y.txt"},
		{"join gcs trailing slash", Join("gs://b/dir/", "y"), "gs://b/dir/y"},
		{"join gcs cleans", Join("gs://b/a/./c", "../d"), "gs://b/a/d"},
		{"join local", Join("/tmp/a", "b", "c.txt"), "/tmp/a/b/c.txt"},
		{"join relative", Join("runs", "x"), "runs/x"},
		{"dir gcs", Dir("gs://b/x/y.txt"), "gs://b/x"},
		{"dir gcs top", Dir("gs://b/y.txt"), "gs://b"},
		{"dir gcs bucket", Dir("gs://b"), "gs://b"},
		{"dir local", Dir("/tmp/a/b"), "/tmp/a"},
		{"base gcs", Base("gs://b/x/y.txt"), "y.txt"},
		{"base gcs dir slash", Base("gs://b/x/"), "x"},
		{"base local", Base("/tmp/a/b"), "b"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	for _, p := range []string{"gs://", "gs:///key"} {
		if _, _, err := splitGCS(p); err == nil {
			t.Errorf("splitGCS(%q) succeeded", p)
		}
	}
	if !IsGCS("gs://b/k") || IsGCS("/gs://") || IsGCS("gcs://b") {
		t.Error("IsGCS misclassifies")
	}
}
