package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// The GPU tests share one Device per test binary: opening the primary
// context costs a few hundred milliseconds.
var (
	sharedDev    *Device
	sharedDevErr error
	// openDevice opens another Device on the test GPU (the emulator's when
	// DETFLOW_EMULATE=1).
	openDevice = Open
	emu        *emuOpener
)

func TestMain(m *testing.M) {
	if emulating() {
		var err error
		emu, err = newEmuOpener()
		if err != nil {
			fmt.Fprintf(os.Stderr, "gpu: build kernel emulator: %v\n", err)
			os.Exit(1)
		}
		openDevice = emu.open
		fmt.Fprintf(os.Stderr, "gpu: GPU tests run on the kernel EMULATOR (%s), not a GPU\n", emu.gpu.bin)
	}
	sharedDev, sharedDevErr = openDevice(0)
	switch {
	case sharedDevErr == nil:
		info := sharedDev.Info()
		drvVer, _ := sharedDev.Driver().Version()
		fmt.Fprintf(os.Stderr, "gpu: testing on cuda:0 %s (sm_%d%d, %d SMs, %.1f GiB), driver CUDA %d.%d from %s, PTX %s\n",
			info.Name, info.ComputeMajor, info.ComputeMinor, info.SMs, float64(info.TotalMem)/(1<<30),
			drvVer/1000, drvVer%1000/10, sharedDev.Driver().Path, sharedDev.ptx.Describe())
	case Unavailable(sharedDevErr):
		fmt.Fprintf(os.Stderr, "gpu: GPU tests will SKIP: %v\n", sharedDevErr)
	default:
		fmt.Fprintf(os.Stderr, "gpu: GPU tests will FAIL: open cuda:0: %v\n", sharedDevErr)
	}
	code := m.Run()
	if emu != nil {
		if emu.gpu.err != nil {
			fmt.Fprintf(os.Stderr, "gpu: emulator failure: %v\n", emu.gpu.err)
			code = 1
		}
	}
	if sharedDev != nil {
		if err := sharedDev.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "gpu: close device: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	if emu != nil {
		os.RemoveAll(emu.dir)
	}
	os.Exit(code)
}

// gpuDevice returns the shared device, skipping the test with the reason
// when there is no driver, and failing it when a driver exists but the
// device cannot be opened.
func gpuDevice(t testing.TB) *Device {
	t.Helper()
	if Unavailable(sharedDevErr) {
		t.Skipf("GPU test skipped: %v", sharedDevErr)
	}
	if sharedDevErr != nil {
		t.Fatalf("open cuda:0: %v", sharedDevErr)
	}
	return sharedDev
}

// upload copies host floats to a new device block freed at test end.
func upload(t testing.TB, d *Device, x []float32) DevPtr {
	t.Helper()
	p := alloc(t, d, len(x))
	if err := d.WriteFloat32(p, x); err != nil {
		t.Fatal(err)
	}
	return p
}

func uploadInt32(t testing.TB, d *Device, x []int32) DevPtr {
	t.Helper()
	p := alloc(t, d, len(x))
	if err := d.WriteInt32(p, x); err != nil {
		t.Fatal(err)
	}
	return p
}

// alloc returns a device block of n 4-byte words, freed at test end.
func alloc(t testing.TB, d *Device, n int) DevPtr {
	t.Helper()
	p, err := d.Alloc(4 * max(n, 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Free(p); err != nil {
			t.Error(err)
		}
	})
	return p
}

func download(t testing.TB, d *Device, p DevPtr, n int) []float32 {
	t.Helper()
	out := make([]float32, n)
	if err := d.ReadFloat32(out, p); err != nil {
		t.Fatal(err)
	}
	return out
}

func downloadInt32(t testing.TB, d *Device, p DevPtr, n int) []int32 {
	t.Helper()
	out := make([]int32, n)
	if err := d.ReadInt32(out, p); err != nil {
		t.Fatal(err)
	}
	return out
}

// randn returns n normal floats from a fixed seed.
func randn(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// checkClose is llm.c's checker: |got-want| <= atol + |want|*rtol for every
// element; it prints the first mismatches and their count. NaNs must match.
func checkClose(t testing.TB, name string, got, want []float32, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", name, len(got), len(want))
	}
	bad, worst := 0, 0.0
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(w) && math.IsNaN(g) {
			continue
		}
		diff := math.Abs(g - w)
		if !(diff <= atol+math.Abs(w)*rtol) {
			if bad < 5 {
				t.Errorf("%s[%d] = %.8g, want %.8g (|diff| %.3g > %.3g)", name, i, g, w, diff, atol+math.Abs(w)*rtol)
			}
			bad++
		}
		if !math.IsNaN(diff) {
			worst = max(worst, diff)
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d elements outside atol %.g + |ref|*rtol %.g", name, bad, len(want), atol, rtol)
		return
	}
	t.Logf("%s: %d elements OK, max |diff| %.3g (atol %.g, rtol %.g)", name, len(want), worst, atol, rtol)
}

// quarter rounds to a multiple of 0.25. On such coordinates areas and
// intersections are exact in float32, so the GPU (which may fuse a
// multiply-add) and the CPU compute bitwise-equal IoUs and the keep lists
// can be compared exactly even for pairs at the threshold.
func quarter(v float32) float32 { return float32(math.Round(float64(v)*4) / 4) }

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// numGrad is the central difference of f at x[i].
func numGrad(f func() float64, x []float32, i int, h float32) float64 {
	old := x[i]
	x[i] = old + h
	fp := f()
	x[i] = old - h
	fm := f()
	x[i] = old
	return (fp - fm) / (2 * float64(h))
}
