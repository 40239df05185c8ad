package tensordev

import (
	"fmt"
	"sort"
	"sync"

	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/tensor"
)

// Device implements tensor.Device on one GPU. Driver failures (out of
// memory, a faulted kernel) panic with a *tensor.DeviceError, as the
// interface has no error results; API boundaries recover them
// (tensor.Recover), and errors.Is finds the driver's error (gpu.ErrOutOfMemory).
type Device struct {
	g    *gpu.Device
	cpu  *tensor.CPU
	name string

	mu           sync.Mutex
	fallbacks    map[string]int
	convNoted    map[string]bool // reasons cuDNN was not used, logged once
	convComposed int
}

var _ tensor.Device = (*Device)(nil)

// New wraps an open gpu.Device; name is the device spec, e.g. "cuda:0".
func New(g *gpu.Device, name string) *Device {
	return &Device{g: g, cpu: tensor.NewCPU(0), name: name, fallbacks: map[string]int{}}
}

// Open opens GPU ordinal as a Device named "cuda:<ordinal>"; without a
// driver the error is gpu.Open's *gpu.NoDriverError. Close releases it.
func Open(ordinal int) (*Device, error) {
	g, err := gpu.Open(ordinal)
	if err != nil {
		return nil, err
	}
	return New(g, fmt.Sprintf("cuda:%d", ordinal)), nil
}

// Close closes the GPU, freeing every buffer still allocated through this
// Device (tensors must not be used after): for owners such as a trainer
// that drop all their tensors at once.
func (d *Device) Close() error { return d.g.Discard() }

// GPU returns the wrapped device.
func (d *Device) GPU() *gpu.Device { return d.g }

// Fallbacks returns how many calls of each operator ran on the host.
func (d *Device) Fallbacks() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]int, len(d.fallbacks))
	for k, v := range d.fallbacks {
		out[k] = v
	}
	return out
}

// FallbackNames lists the operators that ran on the host, sorted.
func (d *Device) FallbackNames() []string {
	var names []string
	for k := range d.Fallbacks() {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// buffer is a run of float32s in device memory; a view shares its base's
// memory and is never freed.
type buffer struct {
	ptr  gpu.DevPtr
	n    int
	view bool
}

func (b *buffer) Len() int { return b.n }

type indexBuffer struct {
	ptr gpu.DevPtr
	n   int
}

func (b *indexBuffer) Len() int { return b.n }

// buf returns the device buffer behind b (nil stays nil).
func buf(b tensor.Buffer) *buffer {
	if b == nil {
		return nil
	}
	gb, ok := b.(*buffer)
	if !ok {
		tensor.Panicf("tensordev: buffer %T does not belong to a GPU device", b)
	}
	return gb
}

// ptr is the device address of b, 0 for nil (the kernels' NULL).
func ptr(b tensor.Buffer) gpu.DevPtr {
	if gb := buf(b); gb != nil {
		return gb.ptr
	}
	return 0
}

func iptr(b tensor.IndexBuffer) gpu.DevPtr {
	if b == nil {
		return 0
	}
	ib, ok := b.(*indexBuffer)
	if !ok {
		tensor.Panicf("tensordev: index buffer %T does not belong to a GPU device", b)
	}
	return ib.ptr
}

// must panics on a driver error with a *tensor.DeviceError.
func must(err error) {
	if err != nil {
		panic(&tensor.DeviceError{Backend: "tensordev", Err: err})
	}
}

func checkLen(what string, want, got int) {
	if want != got {
		tensor.Panicf("tensordev: %s: length %d, want %d", what, got, want)
	}
}

// Name implements tensor.Device.
func (d *Device) Name() string { return d.name }

// Alloc implements tensor.Device.
func (d *Device) Alloc(n int) tensor.Buffer {
	if n == 0 {
		return &buffer{}
	}
	p, err := d.g.Alloc(4 * n)
	must(err)
	return &buffer{ptr: p, n: n}
}

// Free implements tensor.Device.
func (d *Device) Free(b tensor.Buffer) {
	gb := buf(b)
	if gb.view {
		tensor.Panicf("tensordev: free of a view")
	}
	if gb.ptr != 0 {
		must(d.g.Free(gb.ptr))
	}
}

// View implements tensor.Device.
func (d *Device) View(b tensor.Buffer, off, n int) tensor.Buffer {
	gb := buf(b)
	if off < 0 || n < 0 || off+n > gb.n {
		tensor.Panicf("tensordev: view [%d, %d) of a %d-element buffer", off, off+n, gb.n)
	}
	return &buffer{ptr: gb.ptr + gpu.DevPtr(4*off), n: n, view: true}
}

// Upload implements tensor.Device. The copy is staged through pinned
// memory and queued without waiting for the GPU (gpu.Device.Stage).
func (d *Device) Upload(dst tensor.Buffer, src []float32) {
	checkLen("upload", dst.Len(), len(src))
	must(d.g.StageFloat32(ptr(dst), src))
}

// Download implements tensor.Device.
func (d *Device) Download(dst []float32, src tensor.Buffer) {
	checkLen("download", src.Len(), len(dst))
	must(d.g.ReadFloat32(dst, ptr(src)))
}

// Copy implements tensor.Device.
func (d *Device) Copy(dst, src tensor.Buffer) {
	checkLen("copy", src.Len(), dst.Len())
	if src.Len() > 0 {
		must(d.g.CopyDtoD(ptr(dst), ptr(src), 4*src.Len()))
	}
}

var _ tensor.PeerCopier = (*Device)(nil)

// CopyPeer implements tensor.PeerCopier for buffers of another Device (a
// data-parallel replica on another GPU, or on the same one). The source
// device is synchronised first, so the copy, queued on this device's
// stream, sees the source's finished values.
func (d *Device) CopyPeer(dst tensor.Buffer, from tensor.Device, src tensor.Buffer) bool {
	fd, ok := from.(*Device)
	if !ok {
		return false
	}
	checkLen("peer copy", src.Len(), dst.Len())
	if src.Len() > 0 {
		must(fd.g.Synchronize())
		must(d.g.CopyPeer(ptr(dst), fd.g, ptr(src), 4*src.Len()))
	}
	return true
}

// Fill implements tensor.Device.
func (d *Device) Fill(dst tensor.Buffer, v float32) { must(d.g.Fill(ptr(dst), v, dst.Len())) }

// AllocIndex implements tensor.Device.
func (d *Device) AllocIndex(n int) tensor.IndexBuffer {
	if n == 0 {
		return &indexBuffer{}
	}
	p, err := d.g.Alloc(4 * n)
	must(err)
	return &indexBuffer{ptr: p, n: n}
}

// FreeIndex implements tensor.Device.
func (d *Device) FreeIndex(b tensor.IndexBuffer) {
	if p := iptr(b); p != 0 {
		must(d.g.Free(p))
	}
}

// UploadIndex implements tensor.Device.
func (d *Device) UploadIndex(dst tensor.IndexBuffer, src []int32) {
	checkLen("upload index", dst.Len(), len(src))
	must(d.g.StageInt32(iptr(dst), src))
}

// DownloadIndex implements tensor.Device.
func (d *Device) DownloadIndex(dst []int32, src tensor.IndexBuffer) {
	checkLen("download index", src.Len(), len(dst))
	must(d.g.ReadInt32(dst, iptr(src)))
}
