//go:build linux

package gpu

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeLibs compiles testdata/abi/fake_libs.c, C stand-ins for the cuDNN
// and NCCL functions detflow binds, and returns its path and functions to
// read and reset the log of calls as C received them. Without gcc the
// test skips.
func fakeLibs(t *testing.T) (path string, log func() string, reset func()) {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("ABI test skipped: no gcc to build the fake libraries")
	}
	path = filepath.Join(t.TempDir(), "libfake.so")
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-O1", "-Wall", "-o", path, "testdata/abi/fake_libs.c").CombinedOutput(); err != nil {
		t.Fatalf("compile fake libraries: %v\n%s", err, out)
	}
	h, err := systemDlopen(path)
	if err != nil {
		t.Fatal(err)
	}
	var logFn func() uintptr
	b := &symbolBinder{lib: h, libName: path}
	b.bind(&logFn, "fake_log")
	b.bind(&reset, "fake_reset")
	if b.err != nil {
		t.Fatal(b.err)
	}
	reset()
	return path, func() string { return goString((*byte)(cPtr(logFn()))) }, reset
}

func checkLog(t *testing.T, what, got string, want ...string) {
	t.Helper()
	if w := strings.Join(want, "\n") + "\n"; got != w {
		t.Errorf("%s: C received\n%s\nwant\n%s", what, got, w)
	}
}

// TestCudnnABI drives the cuDNN binding against C functions with cuDNN's
// prototypes: every argument (descriptors, int32 enums, size_t workspace
// sizes, float pointers, the 48-byte perf structs) must arrive as C reads
// it.
func TestCudnnABI(t *testing.T) {
	path, log, _ := fakeLibs(t)
	env := map[string]string{"DETFLOW_LIBCUDNN": path}
	lib, err := loadCudnn(func(k string) string { return env[k] }, systemDlopen)
	if err != nil {
		t.Fatal(err)
	}
	d := newFakeDevice(t).dev
	d.stream = 0x77
	if d.dnn, err = newDNN(d, lib); err != nil {
		t.Fatal(err)
	}
	d.dnn.Deterministic = true // the stand-in's pick then has a workspace to pass
	if d.dnn.String() != "cuDNN 9.6.0" {
		t.Errorf("version %q", d.dnn)
	}
	g := ConvGeom{C: 3, H: 20, W: 16, KH: 3, KW: 3, PadH: 1, PadW: 1, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1}
	for _, err := range []error{
		d.ConvFwd(0x3000, 0x1000, 0x2000, g, 2, 8),
		d.ConvBwdData(0x4000, 0x2000, 0x3000, g, 2, 8),
		d.ConvBwdFilter(0x5000, 0x1000, 0x3000, g, 2, 8),
		d.Close(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkLog(t, "cuDNN", log(),
		"create 0x100",
		"stream 0x100 0x77",
		"tensor 0x101 format 0 type 0 [2 3 20 16]",
		"tensor 0x102 format 0 type 0 [2 8 10 8]",
		"filter 0x103 type 0 format 0 [8 3 3 3]",
		"conv 0x104 pad 1 1 stride 2 2 dilation 1 1 mode 1 compute 0",
		"math 0x104 3",
		"rank forward 8",
		"forward 0x100 alpha 1 0x101 0x1000 0x103 0x2000 conv 0x104 algo 2 ws set 4096 beta 0 0x102 0x3000",
		"rank data 8",
		"data 0x100 alpha 1 0x103 0x2000 0x102 0x3000 conv 0x104 algo 2 ws set 4096 beta 0 0x101 0x4000",
		"rank filter 8",
		"filter 0x100 alpha 1 0x101 0x1000 0x102 0x3000 conv 0x104 algo 2 ws set 4096 beta 0 0x103 0x5000",
		"destroy tensor 0x101",
		"destroy tensor 0x102",
		"destroy filter 0x103",
		"destroy conv 0x104",
		"destroy 0x100",
	)
}

// TestNCCLABI drives the NCCL binding against C functions with NCCL's
// prototypes, over two fake devices.
func TestNCCLABI(t *testing.T) {
	path, log, reset := fakeLibs(t)
	t.Setenv("DETFLOW_LIBNCCL", path)
	var devs []*Device
	for r := range 2 {
		d := newFakeDevice(t).dev
		d.info.Ordinal, d.stream = r, uintptr(0x70+r)
		devs = append(devs, d)
	}
	c, err := NewNCCL(devs)
	if err != nil {
		t.Fatal(err)
	}
	if c.String() != "NCCL 2.27.3" {
		t.Errorf("version %q", c)
	}
	checkLog(t, "NCCL init", log(), "init 2: 0->0x100 1->0x101")
	reset()
	rows := [][]DevPtr{{0x1000, 0x2000}, {0x1100, 0x2100}}
	if err := c.ReduceSum(rows, []int{10, 3}); err != nil {
		t.Fatal(err)
	}
	if err := c.Broadcast(rows, []int{10, 3}); err != nil {
		t.Fatal(err)
	}
	checkLog(t, "NCCL reduce and broadcast", log(),
		"group start",
		"reduce 0x1000 0x1000 10 type 7 op 0 root 0 0x100 0x70",
		"reduce 0x1100 0x1100 3 type 7 op 0 root 0 0x100 0x70",
		"reduce 0x2000 0x2000 10 type 7 op 0 root 0 0x101 0x71",
		"reduce 0x2100 0x2100 3 type 7 op 0 root 0 0x101 0x71",
		"group end",
		"group start",
		"broadcast 0x1000 0x1000 10 type 7 root 0 0x100 0x70",
		"broadcast 0x1100 0x1100 3 type 7 root 0 0x100 0x70",
		"broadcast 0x1000 0x2000 10 type 7 root 0 0x101 0x71",
		"broadcast 0x1100 0x2100 3 type 7 root 0 0x101 0x71",
		"group end",
	)
	err = c.ReduceSum([][]DevPtr{{0x1000, 0x2000}}, []int{13})
	if err == nil || !strings.Contains(err.Error(), "rank 0 (cuda:0): tensor 0: ncclReduce: nccl result 5: fake nccl error") {
		t.Errorf("a failing ncclReduce: err = %v", err)
	}
	reset()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	checkLog(t, "NCCL close", log(), "destroy comm 0x100", "destroy comm 0x101")
}
