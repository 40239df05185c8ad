package gpu

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// OpenDeviceForTest gives the external test package (gpu_test) a Device of
// its own on the test GPU (the emulator's with DETFLOW_EMULATE=1),
// discarded with every buffer still allocated when the test ends (for
// callers such as tensor's conformance suite, which frees nothing). It
// skips the test without a driver.
func OpenDeviceForTest(t testing.TB) *Device {
	t.Helper()
	gpuDevice(t)
	d, err := openDevice(0)
	if err != nil {
		t.Fatalf("open another device on cuda:0: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Discard(); err != nil {
			t.Errorf("discard device: %v", err)
		}
	})
	return d
}

// DropModulesForTest makes d see no PTX for the named modules, as a build
// whose PTX predates them would: the other modules' PTX (from d's source)
// is copied to a temporary DETFLOW_PTX_DIR-style folder that d then uses.
// Call it before d loads or asks about any module.
func DropModulesForTest(t testing.TB, d *Device, modules ...string) {
	t.Helper()
	dir := t.TempDir()
	for _, m := range kernelModules() {
		if slices.Contains(modules, m.Name) {
			continue
		}
		b, err := d.ptx.Load(m.Name)
		if errors.Is(err, ErrPTXMissing) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, m.Name+".ptx"), b[:len(b)-1], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d.ptx = ptxSource{dir: dir}
}
