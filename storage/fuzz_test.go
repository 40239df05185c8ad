package storage

import (
	"strings"
	"testing"
)

// FuzzSplitGCS parses arbitrary gs:// paths: never a panic, and a parsed
// path formats back to one that parses to the same bucket and key.
func FuzzSplitGCS(f *testing.F) {
	for _, s := range []string{"gs://b/k", "gs://b", "gs://b/", "gs://b/a/../c", "gs:///x", "gs://b//x/./y/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		bucket, key, err := splitGCS(p)
		if err != nil {
			return
		}
		if bucket == "" || strings.Contains(bucket, "/") || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") {
			t.Fatalf("splitGCS(%q) = %q, %q", p, bucket, key)
		}
		b2, k2, err := splitGCS(gcsPath(bucket, key))
		if err != nil || b2 != bucket || k2 != key {
			t.Fatalf("round trip of %q: %q, %q, %v", p, b2, k2, err)
		}
	})
}
