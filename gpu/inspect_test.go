package gpu

import (
	"errors"
	"slices"
	"testing"
)

func TestInspectWithoutLibraries(t *testing.T) {
	noLibs := func(string) (uintptr, error) { return 0, errors.New("not here") }
	dir := t.TempDir()
	writeFakePTX(t, dir)
	env := map[string]string{"DETFLOW_PTX_DIR": dir}
	inv := inspect(func(k string) string { return env[k] }, noLibs)
	if !errors.Is(inv.Driver.Err, ErrNoDriver) || len(inv.Devices) != 0 {
		t.Errorf("driver %+v, devices %v: want no driver and no devices", inv.Driver, inv.Devices)
	}
	var names []string
	for _, l := range inv.Libraries {
		names = append(names, l.Name)
		var le *LibraryError
		if !errors.As(l.Err, &le) || l.Path != "" {
			t.Errorf("%s: %+v, want a LibraryError", l.Name, l)
		}
	}
	if !slices.Equal(names, []string{"cuBLAS", "cuDNN", "NCCL"}) {
		t.Errorf("libraries %v", names)
	}
	if len(inv.MissingPTX) != 0 || inv.PTXSource != "DETFLOW_PTX_DIR="+dir {
		t.Errorf("PTX from %q missing %v, want every module found in DETFLOW_PTX_DIR", inv.PTXSource, inv.MissingPTX)
	}

	env = map[string]string{"DETFLOW_PTX_DIR": t.TempDir(), "DETFLOW_CUDNN": "0"}
	inv = inspect(func(k string) string { return env[k] }, noLibs)
	if len(inv.MissingPTX) != len(kernelModules()) {
		t.Errorf("empty DETFLOW_PTX_DIR: missing %v, want every module", inv.MissingPTX)
	}
	if !errors.Is(inv.Libraries[1].Err, ErrDNNOff) {
		t.Errorf("DETFLOW_CUDNN=0: cuDNN %+v, want switched off", inv.Libraries[1])
	}
}

func TestVersionNumbers(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{cudnnVersion(90600), "9.6.0"}, {cudnnVersion(8902), "8.9.2"},
		{ncclVersion(22703), "2.27.3"}, {ncclVersion(2804), "2.8.4"},
	} {
		if tc.got != tc.want {
			t.Errorf("version %q, want %q", tc.got, tc.want)
		}
	}
}

// TestGPUInventory logs what a GPU machine offers (the gpu-check log keeps
// it) and checks the inventory agrees with the device opened.
func TestGPUInventory(t *testing.T) {
	d := gpuDevice(t)
	if emulating() {
		t.Skip("Inspect loads the real libraries; nothing to emulate")
	}
	inv := Inspect()
	t.Logf("driver: %+v", inv.Driver)
	for _, dev := range inv.Devices {
		t.Logf("device: %+v", dev)
	}
	for _, l := range inv.Libraries {
		t.Logf("%s: %s %s %v", l.Name, l.Version, l.Path, l.Err)
	}
	t.Logf("PTX %s, missing %v", inv.PTXSource, inv.MissingPTX)
	if inv.Driver.Err != nil || len(inv.Devices) == 0 || inv.Devices[0].Name != d.Info().Name {
		t.Errorf("inventory %+v disagrees with the opened device %+v", inv.Driver, d.Info())
	}
}
