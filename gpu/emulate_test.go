package gpu

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// The kernel emulator: with DETFLOW_EMULATE=1 (and g++ on PATH) the GPU
// tests run on the CPU against a fake driver whose cuLaunchKernel executes
// the real gpu/kernels/*.cu compiled as C++ (testdata/emu/cuda_emu.h: one
// OS thread per CUDA thread, real barriers and atomics). It checks the
// kernels' index arithmetic, the launchers and the tests themselves before
// a GPU is at hand. cuBLAS and NCCL are absent there, so their tests skip.

// emulating reports whether the GPU tests should run on the emulator.
func emulating() bool { return os.Getenv("DETFLOW_EMULATE") == "1" }

var cuParamRE = regexp.MustCompile(`^(.*?)\s*\b(\w+)$`)

// buildEmulator compiles every kernel module with the emulation shim into
// one executable in dir.
func buildEmulator(dir string) (string, error) {
	here, err := os.Getwd()
	if err != nil {
		return "", err
	}
	var src strings.Builder
	fmt.Fprintf(&src, "#include %q\n", filepath.Join(here, "testdata/emu/cuda_emu.h"))
	for _, m := range kernelModules() {
		fmt.Fprintf(&src, "#include %q\n", filepath.Join(here, "kernels", m.Name+".cu"))
	}
	fmt.Fprintf(&src, "#include %q\n", filepath.Join(here, "testdata/emu/emu_main.h"))
	src.WriteString("bool emu_dispatch(const std::string& k, emu_dim3 g, emu_dim3 b, const emu_args& a) {\n")
	for _, m := range kernelModules() {
		text, err := os.ReadFile(filepath.Join("kernels", m.Name+".cu"))
		if err != nil {
			return "", err
		}
		for _, k := range cuKernelRE.FindAllStringSubmatch(string(text), -1) {
			var args []string
			for i, p := range strings.Split(k[2], ",") {
				pm := cuParamRE.FindStringSubmatch(strings.TrimSpace(p))
				typ := pm[1]
				switch {
				case strings.Contains(typ, "*"):
					args = append(args, fmt.Sprintf("(%s)a.p(%d)", typ, i))
				case typ == "float":
					args = append(args, fmt.Sprintf("a.f(%d)", i))
				default:
					args = append(args, fmt.Sprintf("a.i(%d)", i))
				}
			}
			fmt.Fprintf(&src, "  if (k == %q) { emu_launch(g, b, [&] { %s(%s); }); return true; }\n", k[1], k[1], strings.Join(args, ", "))
		}
	}
	src.WriteString("  return false;\n}\n")
	cpp := filepath.Join(dir, "emu_all.cpp")
	if err := os.WriteFile(cpp, []byte(src.String()), 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "emu")
	// -mfma -ffp-contract=fast fuses multiply-adds as nvcc does by default,
	// so the tests' tolerances meet the same rounding as on a GPU.
	out, err := exec.Command("g++", "-std=c++20", "-O2", "-mfma", "-ffp-contract=fast", "-pthread", "-Wall", "-Wno-sign-compare",
		"-Wno-unused-function", "-o", bin, cpp).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("compile kernel emulator: %v\n%s", err, out)
	}
	return bin, nil
}

// emuGPU is the fake GPU: device memory as Go byte slices at made-up
// addresses, kernels run by the emulator executable.
type emuGPU struct {
	mu      sync.Mutex
	bin     string
	dir     string
	mem     map[uintptr][]byte
	host    map[uintptr][]byte
	next    uintptr
	funcs   map[uintptr]string
	sigs    map[string]string
	strs    map[string][]byte
	launchN int
	err     error // first emulator failure, reported by the tests
}

// newEmuDriver returns a Driver whose functions act on an emuGPU.
func newEmuDriver(bin, dir string, sigs map[string]string) (*Driver, *emuGPU) {
	e := &emuGPU{bin: bin, dir: dir, mem: map[uintptr][]byte{}, host: map[uintptr][]byte{},
		next: 0x7f0000000000, funcs: map[uintptr]string{}, sigs: sigs, strs: map[string][]byte{}}
	ok := Result(0)
	d := &Driver{Path: "emulator"}
	d.cuInit = func(uint32) Result { return ok }
	d.cuDriverGetVersion = func(v *int32) Result { *v = 13000; return ok }
	d.cuDeviceGetCount = func(n *int32) Result { *n = 1; return ok }
	d.cuDeviceGet = func(dev *int32, o int32) Result {
		if o != 0 {
			return 101 // CUDA_ERROR_INVALID_DEVICE
		}
		*dev = 0
		return ok
	}
	d.cuDeviceGetName = func(name *byte, n int32, _ int32) Result {
		copy(unsafe.Slice(name, n), "kernel emulator\x00")
		return ok
	}
	d.cuDeviceTotalMem = func(b *uint64, _ int32) Result { *b = 16 << 30; return ok }
	d.cuDeviceGetAttribute = func(v *int32, attr int32, _ int32) Result { *v = map[int32]int32{75: 9, 76: 0, 16: 1}[attr]; return ok }
	d.cuDevicePrimaryCtxRetain = func(ctx *uintptr, _ int32) Result { *ctx = 1; return ok }
	d.cuDevicePrimaryCtxRelease = func(int32) Result { return ok }
	d.cuCtxSetCurrent = func(uintptr) Result { return ok }
	d.cuCtxSynchronize = func() Result { return ok }
	d.cuStreamCreate = func(s *uintptr, _ uint32) Result { *s = 1; return ok }
	d.cuStreamDestroy = func(uintptr) Result { return ok }
	d.cuStreamSynchronize = func(uintptr) Result { return ok }
	d.cuStreamWaitEvent = func(_, _ uintptr, _ uint32) Result { return ok }
	d.cuEventCreate = func(ev *uintptr, _ uint32) Result { *ev = 1; return ok }
	d.cuEventDestroy = func(uintptr) Result { return ok }
	d.cuEventRecord = func(_, _ uintptr) Result { return ok }
	d.cuEventSynchronize = func(uintptr) Result { return ok }
	d.cuEventQuery = func(uintptr) Result { return ok }
	d.cuEventElapsedTime = func(ms *float32, _, _ uintptr) Result { *ms = 1; return ok }
	d.cuGetErrorName = func(r Result, s **byte) Result {
		*s = e.cstr(map[Result]string{2: "CUDA_ERROR_OUT_OF_MEMORY"}[r])
		return ok
	}
	d.cuGetErrorString = func(r Result, s **byte) Result { *s = e.cstr(map[Result]string{2: "out of memory"}[r]); return ok }
	d.cuMemGetInfo = func(free, total *uint64) Result { *free, *total = 8<<30, 16<<30; return ok }
	d.cuMemAlloc = func(p *uintptr, n uint64) Result {
		if n > 16<<30 { // the emulated device has 16 GiB
			return resultOutOfMemory
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		*p = e.next
		e.mem[e.next] = make([]byte, n)
		e.next += uintptr(n+0xfff) &^ 0xfff
		return ok
	}
	d.cuMemFree = func(p uintptr) Result { e.mu.Lock(); delete(e.mem, p); e.mu.Unlock(); return ok }
	d.cuMemAllocHost = func(p *uintptr, n uint64) Result {
		b := make([]byte, n)
		*p = uintptr(unsafe.Pointer(&b[0]))
		e.mu.Lock()
		e.host[*p] = b
		e.mu.Unlock()
		return ok
	}
	d.cuMemFreeHost = func(p uintptr) Result { e.mu.Lock(); delete(e.host, p); e.mu.Unlock(); return ok }
	d.cuMemcpyHtoDAsync = func(dst uintptr, src unsafe.Pointer, n uint64, _ uintptr) Result {
		copy(e.bytes(dst, n), unsafe.Slice((*byte)(src), n))
		return ok
	}
	d.cuMemcpyDtoHAsync = func(dst unsafe.Pointer, src uintptr, n uint64, _ uintptr) Result {
		copy(unsafe.Slice((*byte)(dst), n), e.bytes(src, n))
		return ok
	}
	d.cuMemcpyDtoDAsync = func(dst, src uintptr, n uint64, _ uintptr) Result {
		copy(e.bytes(dst, n), e.bytes(src, n))
		return ok
	}
	d.cuMemcpyPeerAsync = func(dst, _, src, _ uintptr, n uint64, _ uintptr) Result {
		copy(e.bytes(dst, n), e.bytes(src, n))
		return ok
	}
	d.cuMemsetD32Async = func(dst uintptr, v uint32, n uint64, _ uintptr) Result {
		b := e.bytes(dst, 4*n)
		for i := uint64(0); i < n; i++ {
			binary.LittleEndian.PutUint32(b[4*i:], v)
		}
		return ok
	}
	d.cuModuleLoadDataEx = func(mod *uintptr, _ unsafe.Pointer, _ uint32, _ *int32, _ *uintptr) Result { *mod = 1; return ok }
	d.cuModuleUnload = func(uintptr) Result { return ok }
	d.cuModuleGetFunction = func(fn *uintptr, _ uintptr, name *byte) Result {
		e.mu.Lock()
		defer e.mu.Unlock()
		h := uintptr(len(e.funcs) + 1)
		e.funcs[h] = goString(name)
		*fn = h
		return ok
	}
	d.cuLaunchKernel = e.launch
	return d, e
}

// cstr returns a NUL-terminated copy of s that stays alive with e.
func (e *emuGPU) cstr(s string) *byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s == "" {
		s = "CUDA_ERROR_UNKNOWN"
	}
	b, ok := e.strs[s]
	if !ok {
		b = append([]byte(s), 0)
		e.strs[s] = b
	}
	return &b[0]
}

// region finds the allocation containing addr.
func (e *emuGPU) region(addr uintptr) (uintptr, []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for base, b := range e.mem {
		if addr >= base && addr < base+uintptr(len(b)) {
			return base, b
		}
	}
	panic(fmt.Sprintf("emulator: address %#x is in no device allocation", addr))
}

// bytes returns device memory [addr, addr+n).
func (e *emuGPU) bytes(addr uintptr, n uint64) []byte {
	base, b := e.region(addr)
	off := addr - base
	return b[off : off+uintptr(n)]
}

// launch writes a job file, runs the emulator and reads back the regions.
func (e *emuGPU) launch(f uintptr, grid, block dim3, _ uint32, _, params uintptr) Result {
	e.mu.Lock()
	name := e.funcs[f]
	e.launchN++
	n := e.launchN
	e.mu.Unlock()
	sig := e.sigs[name]
	ptrs := unsafe.Slice((*uintptr)(cPtr(params)), len(sig))
	var job bytes.Buffer
	fmt.Fprintf(&job, "kernel %s\ngrid %d %d %d\nblock %d %d %d\n", name, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z)
	regionID := map[uintptr]int{}
	var regions []uintptr
	var argLines []string
	for i, k := range sig {
		v := *(*uint64)(cPtr(ptrs[i]))
		switch k {
		case 'p':
			if v == 0 {
				argLines = append(argLines, "arg p -1 0")
				continue
			}
			base, _ := e.region(uintptr(v))
			id, ok := regionID[base]
			if !ok {
				id = len(regions)
				regionID[base] = id
				regions = append(regions, base)
			}
			argLines = append(argLines, fmt.Sprintf("arg p %d %d", id, uintptr(v)-base))
		case 'i':
			argLines = append(argLines, fmt.Sprintf("arg i %d", int32(uint32(v))))
		case 'f':
			argLines = append(argLines, fmt.Sprintf("arg f %d", uint32(v)))
		}
	}
	files := make([]string, len(regions))
	for id, base := range regions {
		files[id] = filepath.Join(e.dir, fmt.Sprintf("launch%d-r%d.bin", n, id))
		e.mu.Lock()
		b := e.mem[base]
		e.mu.Unlock()
		if err := os.WriteFile(files[id], b, 0o644); err != nil {
			return e.fail(err)
		}
		fmt.Fprintf(&job, "region %d %s\n", len(b), files[id])
	}
	job.WriteString(strings.Join(argLines, "\n") + "\n")
	jobPath := filepath.Join(e.dir, fmt.Sprintf("launch%d.job", n))
	if err := os.WriteFile(jobPath, job.Bytes(), 0o644); err != nil {
		return e.fail(err)
	}
	if out, err := exec.Command(e.bin, jobPath).CombinedOutput(); err != nil {
		return e.fail(fmt.Errorf("emulate %s: %v\n%s", name, err, out))
	}
	for id, base := range regions {
		b, err := os.ReadFile(files[id])
		if err != nil {
			return e.fail(err)
		}
		e.mu.Lock()
		copy(e.mem[base], b)
		e.mu.Unlock()
		os.Remove(files[id])
	}
	os.Remove(jobPath)
	return 0
}

func (e *emuGPU) fail(err error) Result {
	e.mu.Lock()
	if e.err == nil {
		e.err = err
	}
	e.mu.Unlock()
	return 719 // CUDA_ERROR_LAUNCH_FAILED
}

// openEmulated builds the emulator and opens a Device on it; the driver
// and memory are shared by every Device opened from it.
type emuOpener struct {
	drv *Driver
	gpu *emuGPU
	ptx string
	dir string // temporary folder of the emulator, removed by TestMain
}

func newEmuOpener() (*emuOpener, error) {
	dir, err := os.MkdirTemp("", "detflow-emu-")
	if err != nil {
		return nil, err
	}
	bin, err := buildEmulator(dir)
	if err != nil {
		return nil, err
	}
	sigs, err := cuSignaturesErr()
	if err != nil {
		return nil, err
	}
	drv, gpu := newEmuDriver(bin, dir, sigs)
	ptxDir := filepath.Join(dir, "ptx")
	if err := os.MkdirAll(ptxDir, 0o755); err != nil {
		return nil, err
	}
	for _, m := range kernelModules() {
		if err := os.WriteFile(filepath.Join(ptxDir, m.Name+".ptx"), []byte("// emulated\n"), 0o644); err != nil {
			return nil, err
		}
	}
	return &emuOpener{drv: drv, gpu: gpu, ptx: ptxDir, dir: dir}, nil
}

func (o *emuOpener) open(ordinal int) (*Device, error) {
	d, err := OpenWith(o.drv, ordinal)
	if err != nil {
		return nil, err
	}
	d.ptx = ptxSource{dir: o.ptx}
	return d, nil
}

// cuSignaturesErr is cuSignatures without a testing.T.
func cuSignaturesErr() (map[string]string, error) {
	sigs := map[string]string{}
	for _, m := range kernelModules() {
		text, err := os.ReadFile(filepath.Join("kernels", m.Name+".cu"))
		if err != nil {
			return nil, err
		}
		for _, k := range cuKernelRE.FindAllStringSubmatch(string(text), -1) {
			var sig strings.Builder
			for _, p := range strings.Split(k[2], ",") {
				pm := cuParamRE.FindStringSubmatch(strings.TrimSpace(p))
				switch {
				case strings.Contains(pm[1], "*"):
					sig.WriteByte('p')
				case pm[1] == "float":
					sig.WriteByte('f')
				default:
					sig.WriteByte('i')
				}
			}
			sigs[k[1]] = sig.String()
		}
	}
	return sigs, nil
}

// TestEmulatorSelfCheck runs one kernel through the emulator when it is on,
// so a broken emulator shows up as its own failure.
func TestEmulatorSelfCheck(t *testing.T) {
	if !emulating() {
		t.Skip("kernel emulator off: set DETFLOW_EMULATE=1 (needs g++) to run the GPU tests on the CPU")
	}
	d := gpuDevice(t)
	x := []float32{1, -2, 3, float32(math.Inf(1))}
	p, q := upload(t, d, x), alloc(t, d, 4)
	if err := d.Add(q, p, p, 4); err != nil {
		t.Fatal(err)
	}
	got := download(t, d, q, 4)
	want := []float32{2, -4, 6, float32(math.Inf(1))}
	if !equalFloats(got, want) {
		t.Errorf("emulated x+x = %v, want %v", got, want)
	}
	var names []string
	for _, n := range emuDriverFuncs(d) {
		names = append(names, n)
	}
	sort.Strings(names)
	t.Logf("kernels loaded so far: %v", names)
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func emuDriverFuncs(d *Device) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for k := range d.funcs {
		out = append(out, k)
	}
	return out
}
