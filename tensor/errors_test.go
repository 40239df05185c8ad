package tensor_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/detflow/detflow/tensor"
)

// isInputError reports whether a recovered value r is an *InputError whose
// message starts with prefix.
func isInputError(r any, prefix string) bool {
	e, ok := r.(*tensor.InputError)
	return ok && strings.HasPrefix(e.Msg, prefix)
}

var errDriver = errors.New("cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY")

// TestRecoverTurnsEnginePanicsIntoErrors: a shape panic and a device
// failure, bare or wrapped, become the error; errors.As finds the value.
func TestRecoverTurnsEnginePanicsIntoErrors(t *testing.T) {
	e := tensor.NewEngine(tensor.NewCPU(1))
	dev := &tensor.DeviceError{Backend: "tensordev", Err: errDriver}
	cases := map[string]struct {
		f    func()
		want string
	}{
		"shape":   {func() { tensor.MatMul(e.Zeros(2, 3), e.Zeros(4, 5)) }, "step: tensor: matmul [2 3] by [4 5]"},
		"device":  {func() { panic(dev) }, "step: tensordev: cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY"},
		"wrapped": {func() { panic(fmt.Errorf("replica 1: %w", dev)) }, "step: replica 1: tensordev: cuMemAlloc_v2"},
	}
	for name, tc := range cases {
		err := func() (err error) {
			defer tensor.Recover(&err, "step")
			tc.f()
			return nil
		}()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
		var in *tensor.InputError
		var de *tensor.DeviceError
		if !errors.As(err, &in) && !errors.As(err, &de) {
			t.Errorf("%s: errors.As finds no engine error in %v", name, err)
		}
	}
}

func TestRecoverKeepsDeviceErrorCause(t *testing.T) {
	err := func() (err error) {
		defer tensor.Recover(&err, "")
		panic(&tensor.DeviceError{Backend: "tensordev", Err: errDriver})
	}()
	if !errors.Is(err, errDriver) {
		t.Fatalf("err = %v, want the driver's error through errors.Is", err)
	}
}

// TestRecoverPropagatesOtherPanics: strings, plain errors and runtime
// errors are bugs, whatever their text says.
func TestRecoverPropagatesOtherPanics(t *testing.T) {
	plain := errors.New("tensor: not typed")
	cases := map[string]func(){
		"string":  func() { panic("tensor: looks like ours") },
		"error":   func() { panic(plain) },
		"runtime": func() { _ = []int{}[len(plain.Error())] },
	}
	for name, f := range cases {
		got := func() (r any) {
			defer func() { r = recover() }()
			var err error
			defer tensor.Recover(&err, "")
			f()
			return nil
		}()
		if got == nil || tensor.IsEngineError(asError(got)) {
			t.Errorf("%s: recovered %v, want the panic propagated", name, got)
		}
	}
}

func asError(r any) error {
	err, _ := r.(error)
	return err
}
