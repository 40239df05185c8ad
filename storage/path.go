package storage

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// gcsScheme prefixes every Google Cloud Storage path.
const gcsScheme = "gs://"

// IsGCS reports whether p names a Google Cloud Storage location (gs://...).
func IsGCS(p string) bool { return strings.HasPrefix(p, gcsScheme) }

// Join joins path elements with the separator of the first element's
// backend: "/" for gs:// paths, the OS separator for local paths. The result
// is cleaned.
func Join(elem ...string) string {
	if len(elem) == 0 {
		return ""
	}
	if !IsGCS(elem[0]) {
		return filepath.Join(elem...)
	}
	rest := append([]string{strings.TrimPrefix(elem[0], gcsScheme)}, elem[1:]...)
	return gcsScheme + strings.TrimPrefix(path.Join(rest...), "/")
}

// Dir returns all but the last element of p, like filepath.Dir, keeping the
// gs://bucket prefix of GCS paths.
func Dir(p string) string {
	if !IsGCS(p) {
		return filepath.Dir(p)
	}
	bucket, key, err := splitGCS(p)
	if err != nil || key == "" {
		return gcsScheme + bucket
	}
	d := path.Dir(key)
	if d == "." {
		return gcsScheme + bucket
	}
	return gcsScheme + bucket + "/" + d
}

// Base returns the last element of p, like filepath.Base.
func Base(p string) string {
	if !IsGCS(p) {
		return filepath.Base(p)
	}
	_, key, err := splitGCS(p)
	if err != nil || key == "" {
		return "/"
	}
	return path.Base(key)
}

// splitGCS parses gs://bucket/key into its bucket and a cleaned key without
// leading or trailing slashes ("" for the bucket root).
func splitGCS(p string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(p, gcsScheme)
	if !ok {
		return "", "", fmt.Errorf("parse gcs path %q: missing %q prefix", p, gcsScheme)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("parse gcs path %q: empty bucket name", p)
	}
	key = strings.TrimPrefix(path.Clean("/"+key), "/")
	return bucket, key, nil
}

// gcsPath formats a bucket and key back into a gs:// path.
func gcsPath(bucket, key string) string {
	if key == "" {
		return gcsScheme + bucket
	}
	return gcsScheme + bucket + "/" + key
}
