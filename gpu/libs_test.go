package gpu

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// env is a fake os.Getenv.
type env map[string]string

func (e env) get(k string) string { return e[k] }

func TestLibraryCandidates(t *testing.T) {
	tests := []struct {
		name  string
		spec  func(func(string) string) libSpec
		env   env
		first []string // expected prefix of the candidate list
		has   []string // must appear somewhere
		only  bool     // the prefix is the whole list
	}{
		{name: "driver default", spec: driverSpec, env: env{},
			first: []string{"libcuda.so.1", "libcuda.so"}, has: []string{"/usr/local/nvidia/lib64/libcuda.so.1"}},
		{name: "driver override", spec: driverSpec, env: env{"DETFLOW_LIBCUDA": "/opt/drv/libcuda.so.1"},
			first: []string{"/opt/drv/libcuda.so.1"}, only: true},
		{name: "cublas newest first", spec: cublasSpec, env: env{},
			first: []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"},
			has:   []string{"/usr/local/cuda/lib64/libcublas.so.13"}},
		{name: "cublas CUDA_HOME before system dirs", spec: cublasSpec, env: env{"CUDA_HOME": "/opt/cuda"},
			first: []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so", "/opt/cuda/lib64/libcublas.so.13"}},
		{name: "cublas override", spec: cublasSpec, env: env{"DETFLOW_LIBCUBLAS": "/x/libcublas.so.12"},
			first: []string{"/x/libcublas.so.12"}, only: true},
		{name: "nccl", spec: ncclSpec, env: env{}, first: []string{"libnccl.so.2", "libnccl.so"}},
		{name: "nccl override", spec: ncclSpec, env: env{"DETFLOW_LIBNCCL": "/y/libnccl.so.2"},
			first: []string{"/y/libnccl.so.2"}, only: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.spec(tc.env.get).candidates(tc.env.get)
			if len(got) < len(tc.first) || !slices.Equal(got[:len(tc.first)], tc.first) {
				t.Fatalf("candidates = %v, want prefix %v", got, tc.first)
			}
			if tc.only && len(got) != len(tc.first) {
				t.Errorf("override must be the only candidate, got %v", got)
			}
			for _, h := range tc.has {
				if !slices.Contains(got, h) {
					t.Errorf("candidates lack %q: %v", h, got)
				}
			}
		})
	}
}

// fakeDlopen succeeds only for the paths in ok and records every call.
type fakeDlopen struct {
	ok    map[string]uintptr
	calls []string
}

func (f *fakeDlopen) open(p string) (uintptr, error) {
	f.calls = append(f.calls, p)
	if h, ok := f.ok[p]; ok {
		return h, nil
	}
	return 0, fmt.Errorf("%s: cannot open shared object file: No such file or directory", p)
}

func TestLibraryOpenOrder(t *testing.T) {
	e := env{}
	f := &fakeDlopen{ok: map[string]uintptr{"libcublas.so.12": 7, "/usr/local/cuda/lib64/libcublas.so.13": 9}}
	h, path, _, err := cublasSpec(e.get).open(e.get, f.open)
	if err != nil {
		t.Fatal(err)
	}
	// A bare soname found by the loader wins over a folder, newest version first.
	if h != 7 || path != "libcublas.so.12" {
		t.Errorf("opened %q (handle %d), want libcublas.so.12", path, h)
	}
	if want := []string{"libcublas.so.13", "libcublas.so.12"}; !slices.Equal(f.calls, want) {
		t.Errorf("dlopen calls = %v, want %v", f.calls, want)
	}
}

func TestNoDriverError(t *testing.T) {
	f := &fakeDlopen{}
	_, err := loadDriver(env{}.get, f.open)
	var nd *NoDriverError
	if !errors.As(err, &nd) {
		t.Fatalf("err = %v (%T), want *NoDriverError", err, err)
	}
	if got, want := "--devices cuda:0: "+err.Error(), "--devices cuda:0: no NVIDIA driver found (libcuda.so.1)"; got != want {
		t.Errorf("CLI text = %q, want %q", got, want)
	}
	if !errors.Is(err, ErrNoDriver) {
		t.Error("errors.Is(err, ErrNoDriver) = false")
	}
	if len(nd.Tried) != len(f.calls) || !strings.Contains(nd.Detail(), "No such file") {
		t.Errorf("Detail = %q, tried %v, dlopen calls %v", nd.Detail(), nd.Tried, f.calls)
	}

	_, err = loadDriver(env{"DETFLOW_LIBCUDA": "/nope/libcuda.so.1"}.get, (&fakeDlopen{}).open)
	if err == nil || err.Error() != "no NVIDIA driver found (DETFLOW_LIBCUDA=/nope/libcuda.so.1)" {
		t.Errorf("override err = %v", err)
	}
}

// TestLoadDriverHere runs the real loader on this machine: without a driver
// it must return the typed error, with one it must bind every symbol.
func TestLoadDriverHere(t *testing.T) {
	d, err := LoadDriver()
	if errors.Is(err, ErrNoDriver) {
		t.Logf("no driver here, as expected on CPU machines: %v; %s", err, err.(*NoDriverError).Detail())
		return
	}
	if err != nil {
		t.Fatalf("LoadDriver: %v", err)
	}
	t.Logf("driver loaded from %s", d.Path)
}

func TestCUDAErrorText(t *testing.T) {
	e := &CUDAError{Call: "cuMemAlloc_v2", Code: resultOutOfMemory, Name: "CUDA_ERROR_OUT_OF_MEMORY", Desc: "out of memory"}
	if got, want := e.Error(), "cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(fmt.Errorf("alloc: %w", e), ErrOutOfMemory) {
		t.Error("wrapped out-of-memory CUDAError does not match ErrOutOfMemory")
	}
	if errors.Is(&CUDAError{Code: resultInvalidImage}, ErrOutOfMemory) {
		t.Error("CUDA_ERROR_INVALID_IMAGE matches ErrOutOfMemory")
	}
}

// TestCheckWithoutDriver: on a machine without a driver, Check returns the
// typed error the CLI prints.
func TestCheckWithoutDriver(t *testing.T) {
	err := Check([]int{0})
	if _, lerr := LoadDriver(); lerr == nil {
		t.Skipf("a driver is present; Check([0]) = %v", err)
	}
	if !errors.Is(err, ErrNoDriver) {
		t.Fatalf("Check = %v, want ErrNoDriver", err)
	}
	if got := "--devices cuda:0: " + err.Error(); got != "--devices cuda:0: no NVIDIA driver found (libcuda.so.1)" {
		t.Errorf("CLI text %q", got)
	}
}
