package pickle

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder: it must return a value or
// an error, never panic, hang or allocate beyond what the input justifies.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.pkl"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("(lp0\nS'a'\np1\naI01\naL123L\naF1.5\naV\\u20ac\np2\na."))
	f.Add([]byte("\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x03mod\x8c\x01C\x93)R."))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := Options{
			Resolve: func(module, name string) (any, bool) {
				if module == "mod" {
					return Class{Module: module, Name: name}, true
				}
				return nil, false
			},
			PersistentLoad: func(pid any) (any, error) { return pid, nil },
		}
		v, err := Unmarshal(data, opts)
		if err == nil {
			_ = typeName(v)
		}
	})
}
