package tensordev

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/tensor"
)

// TestGPUStagedUploads: uploads return before the GPU has copied, from a
// staging ring that is reused; every buffer must still hold what its
// source held at the call, and kernels queued after an upload see it.
func TestGPUStagedUploads(t *testing.T) {
	d := device(t)
	src := make([]float32, 1333*800*3) // one input image: a chunk of its own
	sizes := []int{1, 7, 4096, 70000, len(src), 3, 1 << 20}
	var bufs []tensor.Buffer
	var want [][]float32
	for round := range 40 {
		n := sizes[round%len(sizes)]
		for i := range n {
			src[i] = float32(round*1000 + i%997)
		}
		b := d.Alloc(n)
		d.Upload(b, src[:n])
		bufs = append(bufs, b)
		want = append(want, slices.Clone(src[:n]))
		if round%5 == 0 { // a kernel reading the upload, queued behind it
			y := d.Alloc(n)
			d.Unary(tensor.UnaryScale, 2, b, y)
			bufs = append(bufs, y)
			twice := slices.Clone(src[:n])
			for i := range twice {
				twice[i] *= 2
			}
			want = append(want, twice)
		}
	}
	for i, b := range bufs {
		got := make([]float32, b.Len())
		d.Download(got, b)
		if !slices.Equal(got, want[i]) {
			t.Fatalf("buffer %d (%d floats) does not hold its upload", i, b.Len())
		}
		d.Free(b)
	}
	t.Logf("staging after %d uploads: %+v", 40, d.g.StageStats())
}

// TestGPUCollective binds NCCL through tensordev over a one-rank group
// (all a one-GPU machine allows: the reduce and broadcast are identities)
// and checks that a group repeating the GPU is refused with a reason.
func TestGPUCollective(t *testing.T) {
	d := device(t)
	c, err := d.NewCollective([]tensor.Device{d})
	var le *gpu.LibraryError
	if errors.As(err, &le) {
		t.Skipf("NCCL not found: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Logf("collective: %s", c)
	x := randn(9, 5000)
	b := d.Alloc(len(x))
	defer d.Free(b)
	d.Upload(b, x)
	if err := c.ReduceSum([][]tensor.Buffer{{b}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Broadcast([][]tensor.Buffer{{b}}); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, len(x))
	d.Download(got, b)
	if !slices.Equal(got, x) {
		t.Error("a one-rank reduce and broadcast changed the buffer")
	}
	other, err := Open(0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := d.NewCollective([]tensor.Device{d, other}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("collective over cuda:0,0: err = %v, want NCCL's duplicate-device refusal", err)
	}
}
