package detector

import (
	"errors"
	"strings"
	"testing"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/internal/team"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/tensor/tensortest"
)

// loopFailingDevice panics with value once armed, on a helper of a
// parallel loop, as a kernel launched from a loop's body would.
type loopFailingDevice struct {
	*tensortest.HostDevice
	armed bool
	value any
}

func (d *loopFailingDevice) Alloc(n int) tensor.Buffer {
	if !d.armed {
		return d.HostDevice.Alloc(n)
	}
	started := make(chan struct{}) // the caller's share waits for the helper's
	team.For(2, 2, func(w, _ int) {
		if w == 0 {
			<-started
			return
		}
		close(started)
		panic(d.value)
	})
	panic("unreachable")
}

// callFailing builds a detector of type typ on a device that fails with
// value from the first allocation of call ("losses" or "predict"), and
// returns what, if anything, the call panicked with, and its error.
func callFailing(t *testing.T, typ, call string, value any) (panicked any, err error) {
	t.Helper()
	dev := &loopFailingDevice{HostDevice: tensortest.NewHostDevice(1), value: value}
	e := tensor.NewEngine(dev)
	d := buildTiny(t, e, typ, 1)
	b := batch.Collate(e, tinyItems(), 32)
	dev.armed = true
	defer func() { panicked = recover() }()
	if call == "losses" {
		_, err = d.Losses(b, rngsFor(5, 2))
	} else {
		_, err = d.Predict(b)
	}
	return nil, err
}

// TestEngineErrorsInHelpersAreErrors: a device failure or a shape error
// raised on a pool helper reaches the detector's caller as an error that
// names the call and holds the original value.
func TestEngineErrorsInHelpersAreErrors(t *testing.T) {
	errOOM := errors.New("cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (out of memory)")
	device := &tensor.DeviceError{Backend: "tensordev", Err: errOOM}
	shape := &tensor.InputError{Msg: "tensor: matmul [2 3] by [4 5]"}
	for _, typ := range allTypes {
		for _, call := range []string{"losses", "predict"} {
			for _, value := range []error{device, shape} {
				p, err := callFailing(t, typ, call, value)
				var de *tensor.DeviceError
				var in *tensor.InputError
				found := errors.As(err, &de) && de == device || errors.As(err, &in) && in == shape
				if p != nil || !found || !strings.Contains(err.Error(), call+": "+value.Error()) {
					t.Errorf("%s %s: err %v, panic %v, want an error holding %v", typ, call, err, p, value)
				}
			}
		}
	}
}

// TestOtherPanicsInHelpersPropagate: a panic that is not an engine error
// is a bug, whatever its message says; the detector does not return it.
func TestOtherPanicsInHelpersPropagate(t *testing.T) {
	for _, typ := range allTypes {
		for _, call := range []string{"losses", "predict"} {
			p, err := callFailing(t, typ, call, "tensor: a bug")
			if pe, ok := p.(*team.PanicError); !ok || pe.Value != "tensor: a bug" || err != nil {
				t.Errorf("%s %s: err %v, panic %#v, want the helper's panic", typ, call, err, p)
			}
		}
	}
}
