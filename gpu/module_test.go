package gpu

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHasModule(t *testing.T) {
	f := newFakeDevice(t)
	d := f.dev
	dir := d.ptx.dir
	if err := os.Remove(filepath.Join(dir, modIndex+".ptx")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		module string
		want   bool
	}{
		{ModuleLayout, true},
		{ModuleSoftmax, true},
		{ModuleIndex, false},      // no PTX: callers keep their host path
		{"no_such_module", false}, // not in the kernel table
	}
	for _, tc := range tests {
		if got := d.HasModule(tc.module); got != tc.want {
			t.Errorf("HasModule(%q) = %v, want %v", tc.module, got, tc.want)
		}
	}
	// The answer is cached per Device: the PTX is read once.
	if err := os.Remove(filepath.Join(dir, modLayout+".ptx")); err != nil {
		t.Fatal(err)
	}
	if !d.HasModule(ModuleLayout) {
		t.Error("HasModule(layout) changed after its first answer")
	}
	// The embedded PTX of this build: a module listed in SOURCES.sha256 is
	// embedded, so true there.
	e := newDevice(d.drv, DeviceInfo{Name: "fake"}, ptxSource{})
	if !e.HasModule(modElementwise) {
		t.Error("HasModule(elementwise) with the embedded PTX = false")
	}
}
