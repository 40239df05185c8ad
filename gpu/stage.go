package gpu

import (
	"errors"
	"fmt"
	"math/bits"
	"unsafe"
)

// Uploads go through page-locked staging memory. Stage copies the caller's
// bytes into a staging chunk and queues cuMemcpyHtoDAsync from there, so it
// returns as soon as the bytes are staged: the synchronous Write waits for
// every kernel queued before it, leaving the GPU idle while the host builds
// the next batch, and a copy from pageable memory cannot be asynchronous.
//
// A small upload is queued on the compute stream, as PyTorch's
// tensor.cuda(non_blocking=True) queues it on the current stream: the
// destination may be a block the caching allocator recycled while kernels
// still queued on the compute stream read it, and only stream order keeps
// the copy behind them. A large one (an input batch) crosses PCIe on the
// copy stream, overlapping the kernels still running, into a device
// staging block that only these copies touch; a device-to-device copy
// queued on the compute stream, behind an event, then moves it to its
// destination in stream order, at device-memory speed.

const (
	stageChunkBytes = 4 << 20   // one chunk holds many small uploads
	stageLimitBytes = 256 << 20 // pinned staging memory per ring at most
	stageAlign      = 256       // keeps every staged copy aligned for the DMA engine
	// stageBigBytes is the size from which an upload takes the copy stream.
	stageBigBytes = 1 << 20
	// devStageLimit caps the device memory of the copy stream's staging.
	devStageLimit = 128 << 20
)

// stageChunk is one pinned block, filled front to back. Its event is
// recorded on its ring's stream after each copy from it, so once the event
// has completed, the whole chunk may be refilled.
type stageChunk struct {
	host uintptr
	size int
	off  int
	ev   uintptr
}

// stager is a ring of pinned staging chunks whose copies go on one stream
// (the compute stream for small uploads, the copy stream for large ones);
// the Device's lock guards it.
type stager struct {
	chunks  []*stageChunk
	cur     int         // the chunk being filled
	pending *stageChunk // the chunk of the copy being queued
	bytes   int         // pinned bytes held
	waits   int         // times a copy waited for a chunk to drain
}

// devStage is a device block that large uploads land in on the copy
// stream before a device-to-device copy on the compute stream moves them.
type devStage struct {
	ptr      uintptr
	size     int
	copied   uintptr // recorded on the copy stream after the upload into it
	consumed uintptr // recorded on the compute stream after the copy out of it
}

// StageStats reports the staging rings: pinned chunks and bytes (both
// rings), device staging blocks and bytes, and how often an upload had to
// wait on the host for a pinned chunk to drain.
type StageStats struct {
	Chunks, Bytes, DevChunks, DevBytes, Waits int
}

// StageStats returns the staging rings' counters.
func (d *Device) StageStats() StageStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := StageStats{Chunks: len(d.stage.chunks) + len(d.bigStage.chunks), Bytes: d.stage.bytes + d.bigStage.bytes,
		Waits: d.stage.waits + d.bigStage.waits, DevChunks: len(d.devStage)}
	for _, b := range d.devStage {
		st.DevBytes += b.size
	}
	return st
}

// Stage copies bytes bytes at src to dst without waiting for the GPU:
// src may be reused when Stage returns, and work queued after it on the
// compute stream sees the bytes. Uploads too big for the staging ring
// take the synchronous path.
func (d *Device) Stage(dst DevPtr, src unsafe.Pointer, bytes int) error {
	if bytes == 0 {
		return nil
	}
	if bytes > stageLimitBytes/4 {
		return d.Write(dst, src, bytes)
	}
	return d.do(func() error {
		if bytes >= stageBigBytes {
			return d.stageBig(dst, src, bytes)
		}
		host, err := d.stageHost(&d.stage, src, bytes)
		if err != nil {
			return err
		}
		if err := d.drv.check("cuMemcpyHtoDAsync_v2", d.drv.cuMemcpyHtoDAsync(uintptr(dst), cPtr(host), uint64(bytes), d.stream)); err != nil {
			return err
		}
		return d.drv.check("cuEventRecord", d.drv.cuEventRecord(d.stage.pending.ev, d.stream))
	})
}

// stageHost copies bytes at src into a pinned chunk of s (s.pending) and
// returns the copy's address; the caller queues the transfer from there,
// then records s.pending's event on the same stream.
func (d *Device) stageHost(s *stager, src unsafe.Pointer, bytes int) (uintptr, error) {
	c, err := d.stageRoom(s, bytes)
	if err != nil {
		return 0, fmt.Errorf("stage %d bytes: %w", bytes, err)
	}
	host := c.host + uintptr(c.off)
	copy(unsafe.Slice((*byte)(cPtr(host)), bytes), unsafe.Slice((*byte)(src), bytes))
	c.off += (bytes + stageAlign - 1) &^ (stageAlign - 1)
	s.pending = c
	return host, nil
}

// stageBig uploads through the copy stream: pinned chunk -> device staging
// block (copy stream, after the block's previous copy out), then block ->
// dst (compute stream, after the upload). Neither the host nor the compute
// stream waits for the PCIe transfer until dst is used.
func (d *Device) stageBig(dst DevPtr, src unsafe.Pointer, bytes int) error {
	host, err := d.stageHost(&d.bigStage, src, bytes)
	if err != nil {
		return err
	}
	b, err := d.devStageBlock(bytes)
	if err != nil {
		return fmt.Errorf("stage %d bytes: %w", bytes, err)
	}
	drv, n := d.drv, uint64(bytes)
	steps := []struct {
		call string
		r    func() Result
	}{
		{"cuStreamWaitEvent", func() Result { return drv.cuStreamWaitEvent(d.copyStr, b.consumed, 0) }},
		{"cuMemcpyHtoDAsync_v2", func() Result { return drv.cuMemcpyHtoDAsync(b.ptr, cPtr(host), n, d.copyStr) }},
		{"cuEventRecord", func() Result { return drv.cuEventRecord(d.bigStage.pending.ev, d.copyStr) }},
		{"cuEventRecord", func() Result { return drv.cuEventRecord(b.copied, d.copyStr) }},
		{"cuStreamWaitEvent", func() Result { return drv.cuStreamWaitEvent(d.stream, b.copied, 0) }},
		{"cuMemcpyDtoDAsync_v2", func() Result { return drv.cuMemcpyDtoDAsync(uintptr(dst), b.ptr, n, d.stream) }},
		{"cuEventRecord", func() Result { return drv.cuEventRecord(b.consumed, d.stream) }},
	}
	for _, s := range steps {
		if err := drv.check(s.call, s.r()); err != nil {
			return err
		}
	}
	return nil
}

// devStageBlock returns a device staging block of at least n bytes: the
// next one in ring order that is idle, else a new one while the limit
// allows (or when none is big enough), else the next big enough one (the
// copy stream then waits for it on the GPU, the host does not).
func (d *Device) devStageBlock(n int) (*devStage, error) {
	ring := d.devStage
	held := 0
	for _, b := range ring {
		held += b.size
	}
	var busy *devStage // the first big enough block that is not idle
	for i := 1; i <= len(ring); i++ {
		k := (d.devCur + i) % len(ring)
		b := ring[k]
		if b.size < n {
			continue
		}
		idle, err := d.eventDone(b.consumed)
		if err != nil {
			return nil, err
		}
		if idle {
			d.devCur = k
			return b, nil
		}
		if busy == nil {
			busy = b
		}
	}
	if size := max(stageBigBytes, 1<<bits.Len(uint(n-1))); held+size <= devStageLimit || busy == nil {
		return d.newDevStage(size)
	}
	for k, b := range ring {
		if b == busy {
			d.devCur = k
		}
	}
	return busy, nil
}

func (d *Device) newDevStage(size int) (*devStage, error) {
	p, err := d.alloc.Alloc(size)
	if err != nil {
		return nil, err
	}
	b := &devStage{ptr: p, size: size}
	var errs []error
	for _, ev := range []*uintptr{&b.copied, &b.consumed} {
		errs = append(errs, d.drv.check("cuEventCreate", d.drv.cuEventCreate(ev, 2)))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, errors.Join(err, d.alloc.Free(p))
	}
	d.devStage = append(d.devStage, b)
	d.devCur = len(d.devStage) - 1
	return b, nil
}

// StageFloat32 stages src for dst.
func (d *Device) StageFloat32(dst DevPtr, src []float32) error {
	if len(src) == 0 {
		return nil
	}
	return d.Stage(dst, unsafe.Pointer(&src[0]), 4*len(src))
}

// StageInt32 stages src for dst.
func (d *Device) StageInt32(dst DevPtr, src []int32) error {
	if len(src) == 0 {
		return nil
	}
	return d.Stage(dst, unsafe.Pointer(&src[0]), 4*len(src))
}

// stageRoom returns a chunk with n free bytes at its offset: the current
// one, else the next drained chunk in ring order, else a new chunk while
// the limit allows, else the next big enough chunk once it drains.
func (d *Device) stageRoom(s *stager, n int) (*stageChunk, error) {
	if len(s.chunks) > 0 {
		if c := s.chunks[s.cur]; c.off+n <= c.size {
			return c, nil
		}
	}
	for i := 1; i <= len(s.chunks); i++ {
		j := (s.cur + i) % len(s.chunks)
		c := s.chunks[j]
		if c.size < n {
			continue
		}
		done, err := d.eventDone(c.ev)
		if err != nil {
			return nil, err
		}
		if done {
			c.off, s.cur = 0, j
			return c, nil
		}
	}
	if size := max(stageChunkBytes, 1<<bits.Len(uint(n-1))); s.bytes+size <= stageLimitBytes {
		return d.newStageChunk(s, size)
	}
	for i := 1; i <= len(s.chunks); i++ {
		j := (s.cur + i) % len(s.chunks)
		c := s.chunks[j]
		if c.size < n {
			continue
		}
		s.waits++
		if err := d.drv.check("cuEventSynchronize", d.drv.cuEventSynchronize(c.ev)); err != nil {
			return nil, err
		}
		c.off, s.cur = 0, j
		return c, nil
	}
	return nil, fmt.Errorf("no staging chunk of %d bytes within the %d-byte limit", n, stageLimitBytes)
}

func (d *Device) newStageChunk(s *stager, size int) (*stageChunk, error) {
	host, err := d.pinned.Alloc(size)
	if err != nil {
		return nil, err
	}
	c := &stageChunk{host: host, size: size}
	// CU_EVENT_DISABLE_TIMING (2): an ordering-only event is cheaper.
	if err := d.drv.check("cuEventCreate", d.drv.cuEventCreate(&c.ev, 2)); err != nil {
		return nil, errors.Join(err, d.pinned.Free(host))
	}
	s.chunks = append(s.chunks, c)
	s.cur = len(s.chunks) - 1
	s.bytes += size
	return c, nil
}

// eventDone reports whether the work captured by ev has finished (an event
// never recorded counts as finished).
func (d *Device) eventDone(ev uintptr) (bool, error) {
	r := d.drv.cuEventQuery(ev)
	if r == resultNotReady {
		return false, nil
	}
	return r == resultSuccess, d.drv.check("cuEventQuery", r)
}

// closeStage returns the staging memory, pinned and device, after the
// streams have drained; called with the Device's lock held.
func (d *Device) closeStage() error {
	var errs []error
	for _, s := range []*stager{&d.stage, &d.bigStage} {
		for _, c := range s.chunks {
			errs = append(errs, d.drv.check("cuEventDestroy_v2", d.drv.cuEventDestroy(c.ev)), d.pinned.Free(c.host))
		}
		*s = stager{}
	}
	for _, b := range d.devStage {
		for _, ev := range []uintptr{b.copied, b.consumed} {
			errs = append(errs, d.drv.check("cuEventDestroy_v2", d.drv.cuEventDestroy(ev)))
		}
		errs = append(errs, d.alloc.Free(b.ptr))
	}
	d.devStage, d.devCur = nil, 0
	return errors.Join(errs...)
}
