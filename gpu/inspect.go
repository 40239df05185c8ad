package gpu

import (
	"errors"
	"fmt"
	"os"
)

// Inventory is what this machine offers the CUDA backend: the driver and
// its devices, the optional libraries, and where the kernels' PTX comes
// from. `pipeline devices` prints it, as nvidia-smi and PyTorch's
// collect_env do, so a user sees why a run falls back before starting it.
type Inventory struct {
	Driver     LibraryStatus
	Devices    []DeviceInfo
	Libraries  []LibraryStatus // cuBLAS, cuDNN, NCCL
	PTXSource  string
	MissingPTX []string // modules whose operators run on the host
	TF32       bool     // DETFLOW_TF32=1: cuDNN convolutions may use TF32
}

// LibraryStatus is one library: where it loaded from and its version, or
// why it did not load.
type LibraryStatus struct {
	Name    string
	Env     string // the variable naming its file, e.g. DETFLOW_LIBCUBLAS
	Path    string
	Version string
	Err     error
}

// Inspect loads what it can and reports; it changes nothing.
func Inspect() Inventory { return inspect(os.Getenv, systemDlopen) }

func inspect(getenv func(string) string, dlopen dlopener) Inventory {
	ptx := newPTXSource(getenv)
	inv := Inventory{PTXSource: ptx.Describe(), MissingPTX: ptx.missing(), TF32: getenv("DETFLOW_TF32") == "1"}
	inv.Driver, inv.Devices = inspectDriver(getenv, dlopen)
	inv.Libraries = []LibraryStatus{inspectCublas(getenv, dlopen), inspectCudnn(getenv, dlopen), inspectNCCL(getenv, dlopen)}
	return inv
}

func inspectDriver(getenv func(string) string, dlopen dlopener) (LibraryStatus, []DeviceInfo) {
	st := LibraryStatus{Name: "CUDA driver", Env: driverSpec(getenv).Env}
	drv, err := loadDriver(getenv, dlopen)
	if err != nil {
		st.Err = err
		return st, nil
	}
	st.Path = drv.Path
	var devs []DeviceInfo
	st.Err = func() error {
		if err := drv.Init(); err != nil {
			return err
		}
		v, err := drv.Version()
		if err != nil {
			return err
		}
		st.Version = fmt.Sprintf("CUDA %d.%d", v/1000, v%1000/10)
		n, err := drv.DeviceCount()
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			info, err := drv.Info(i)
			if err != nil {
				return fmt.Errorf("cuda:%d: %w", i, err)
			}
			devs = append(devs, info)
		}
		return nil
	}()
	return st, devs
}

func inspectCublas(getenv func(string) string, dlopen dlopener) LibraryStatus {
	st := LibraryStatus{Name: "cuBLAS", Env: cublasSpec(getenv).Env}
	l, err := loadCublas(getenv, dlopen)
	if err != nil {
		st.Err = err
		return st
	}
	st.Path = l.Path
	if l.getProperty != nil {
		var v [3]int32 // MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL
		for i := range v {
			if r := l.getProperty(int32(i), &v[i]); r != 0 {
				return st
			}
		}
		st.Version = fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2])
	}
	return st
}

func inspectCudnn(getenv func(string) string, dlopen dlopener) LibraryStatus {
	st := LibraryStatus{Name: "cuDNN", Env: cudnnSpec(getenv).Env}
	if getenv("DETFLOW_CUDNN") == "0" {
		st.Err = ErrDNNOff
		return st
	}
	l, err := loadCudnn(getenv, dlopen)
	if err != nil {
		st.Err = err
		return st
	}
	st.Path, st.Version = l.Path, cudnnVersion(int(l.getVersion()))
	return st
}

func inspectNCCL(getenv func(string) string, dlopen dlopener) LibraryStatus {
	st := LibraryStatus{Name: "NCCL", Env: ncclSpec(getenv).Env}
	l, err := loadNCCL(getenv, dlopen)
	if err != nil {
		st.Err = err
		return st
	}
	st.Path = l.Path
	var v int32
	if err := l.check("ncclGetVersion", l.getVersion(&v)); err != nil {
		st.Err = err
		return st
	}
	st.Version = ncclVersion(int(v))
	return st
}

// missing lists the kernel modules without PTX from this source.
func (s ptxSource) missing() []string {
	var out []string
	for _, m := range kernelModules() {
		if _, err := s.Load(m.Name); errors.Is(err, ErrPTXMissing) {
			out = append(out, m.Name)
		}
	}
	return out
}

// cudnnVersion formats cudnnGetVersion's number: major*10000 + minor*100 +
// patch from cuDNN 9, major*1000 + minor*100 + patch before.
func cudnnVersion(v int) string {
	if v >= 10000 {
		return fmt.Sprintf("%d.%d.%d", v/10000, v/100%100, v%100)
	}
	return fmt.Sprintf("%d.%d.%d", v/1000, v/100%10, v%100)
}

// ncclVersion formats ncclGetVersion's number: major*10000 + minor*100 +
// patch from NCCL 2.9, major*1000 + minor*100 + patch before.
func ncclVersion(v int) string {
	if v >= 10000 {
		return fmt.Sprintf("%d.%d.%d", v/10000, v/100%100, v%100)
	}
	return fmt.Sprintf("%d.%d.%d", v/1000, v/100%10, v%100)
}
