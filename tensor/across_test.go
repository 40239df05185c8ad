package tensor_test

import (
	"slices"
	"testing"

	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/tensor/tensortest"
)

// peerDevice records peer copies so the test can see CopyAcross use them.
type peerDevice struct {
	*tensortest.HostDevice
	peerCopies int
}

func (d *peerDevice) CopyPeer(dst tensor.Buffer, from tensor.Device, src tensor.Buffer) bool {
	p, ok := from.(*peerDevice)
	if !ok {
		return false
	}
	d.peerCopies++
	d.Copy(dst, p.View(src, 0, src.Len()))
	return true
}

func TestCopyAcross(t *testing.T) {
	want := []float32{1, -2, 3.5, 4, 5}
	cpuA, cpuB := tensor.NewEngine(tensor.NewCPU(1)), tensor.NewEngine(tensor.NewCPU(1))
	host := tensor.NewEngine(tensortest.NewHostDevice(1))
	p1, p2 := &peerDevice{HostDevice: tensortest.NewHostDevice(1)}, &peerDevice{HostDevice: tensortest.NewHostDevice(1)}
	peerA, peerB := tensor.NewEngine(p1), tensor.NewEngine(p2)
	for _, tc := range []struct {
		name     string
		from, to *tensor.Engine
	}{
		{"same engine", cpuA, cpuA},
		{"cpu to cpu", cpuA, cpuB},
		{"cpu to host device", cpuA, host},
		{"host device to cpu", host, cpuB},
		{"peer to peer", peerA, peerB},
		{"peer to cpu", peerA, cpuB},
	} {
		src := tc.from.FromData(want, 5)
		dst := tc.to.Zeros(5)
		tensor.CopyAcross(dst, src)
		if got := dst.Data(); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, want)
		}
	}
	if p2.peerCopies != 1 {
		t.Errorf("peer copies = %d, want 1 (peer to peer only)", p2.peerCopies)
	}
}

func TestCopyAcrossSizeMismatchPanics(t *testing.T) {
	e := tensor.NewEngine(tensor.NewCPU(1))
	defer func() {
		if r := recover(); !isInputError(r, "tensor: copy across") {
			t.Fatalf("panic = %v, want a size error", r)
		}
	}()
	tensor.CopyAcross(e.Zeros(3), tensor.NewEngine(tensor.NewCPU(1)).Zeros(4))
}
