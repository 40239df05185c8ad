package gpu

import (
	"errors"
	"fmt"
	"path/filepath"
)

// libSpec describes how to find one shared library.
type libSpec struct {
	Name    string   // human name, e.g. "cuBLAS"
	Env     string   // environment override naming a file
	Sonames []string // tried in order, newest first
	Dirs    []string // folders tried after the bare sonames
}

// cudaDirs are the usual install folders of the toolkit and of container
// driver mounts; dlopen of a bare soname searches only the loader's path.
func cudaDirs(getenv func(string) string) []string {
	var dirs []string
	for _, env := range []string{"CUDA_HOME", "CUDA_PATH"} {
		if v := getenv(env); v != "" {
			dirs = append(dirs, filepath.Join(v, "lib64"), filepath.Join(v, "lib"))
		}
	}
	return append(dirs,
		"/usr/local/cuda/lib64",
		"/usr/local/cuda/targets/x86_64-linux/lib",
		"/usr/local/nvidia/lib64",
		"/usr/lib/x86_64-linux-gnu",
		"/usr/lib64",
		"/usr/lib/wsl/lib",
	)
}

func driverSpec(getenv func(string) string) libSpec {
	return libSpec{Name: "CUDA driver", Env: "DETFLOW_LIBCUDA",
		Sonames: []string{"libcuda.so.1", "libcuda.so"}, Dirs: cudaDirs(getenv)}
}

func cublasSpec(getenv func(string) string) libSpec {
	return libSpec{Name: "cuBLAS", Env: "DETFLOW_LIBCUBLAS",
		Sonames: []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"},
		Dirs:    cudaDirs(getenv)}
}

func ncclSpec(getenv func(string) string) libSpec {
	return libSpec{Name: "NCCL", Env: "DETFLOW_LIBNCCL",
		Sonames: []string{"libnccl.so.2", "libnccl.so"}, Dirs: cudaDirs(getenv)}
}

// cudnnSpec finds cuDNN 9 or 8. cuDNN 9's libcudnn.so.9 is a dispatcher
// that loads its sub-libraries (libcudnn_cnn.so.9, ...) by soname when
// first used; should that fail, their folder must go on LD_LIBRARY_PATH
// (gpu-check.sh puts it there).
func cudnnSpec(getenv func(string) string) libSpec {
	return libSpec{Name: "cuDNN", Env: "DETFLOW_LIBCUDNN",
		Sonames: []string{"libcudnn.so.9", "libcudnn.so.8"}, Dirs: cudaDirs(getenv)}
}

// candidates lists what dlopen is given, in order. An environment override
// is the only candidate: a wrong path must fail, not fall back silently.
func (s libSpec) candidates(getenv func(string) string) []string {
	if p := getenv(s.Env); p != "" {
		return []string{p}
	}
	out := append([]string(nil), s.Sonames...)
	for _, d := range s.Dirs {
		for _, so := range s.Sonames {
			out = append(out, filepath.Join(d, so))
		}
	}
	return out
}

// dlopener opens a shared library and returns its handle.
type dlopener func(path string) (uintptr, error)

// open tries the candidates in order and returns the first that loads.
func (s libSpec) open(getenv func(string) string, dlopen dlopener) (handle uintptr, path string, tried []string, err error) {
	cands := s.candidates(getenv)
	var last error
	for _, c := range cands {
		h, err := dlopen(c)
		if err == nil {
			return h, c, cands, nil
		}
		last = err
	}
	if last == nil {
		last = errors.New("no candidates")
	}
	return 0, "", cands, fmt.Errorf("open %s: %w", s.Name, last)
}
