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
// The copy is queued on the compute stream, as PyTorch's
// tensor.cuda(non_blocking=True) queues it on the current stream: the
// destination may be a block the caching allocator recycled while kernels
// still queued on the compute stream read it, and only stream order keeps
// the copy behind them. The copy therefore overlaps the host's work, not
// the GPU's; Upload, on the copy stream, is for destinations known idle.

const (
	stageChunkBytes = 4 << 20   // one chunk holds many small uploads
	stageLimitBytes = 256 << 20 // pinned staging memory per Device at most
	stageAlign      = 256       // keeps every staged copy aligned for the DMA engine
)

// stageChunk is one pinned block, filled front to back. Its event is
// recorded on the compute stream after each copy from it, so once the
// event has completed, the whole chunk may be refilled.
type stageChunk struct {
	host uintptr
	size int
	off  int
	ev   uintptr
}

// stager is a Device's ring of staging chunks; the Device's lock guards it.
type stager struct {
	chunks []*stageChunk
	cur    int // the chunk being filled
	bytes  int // pinned bytes held
	waits  int // times a copy waited for a chunk to drain
}

// StageStats reports the staging ring: chunks, pinned bytes held and how
// often an upload had to wait for earlier copies to finish.
type StageStats struct {
	Chunks, Bytes, Waits int
}

// StageStats returns the staging ring's counters.
func (d *Device) StageStats() StageStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return StageStats{Chunks: len(d.stage.chunks), Bytes: d.stage.bytes, Waits: d.stage.waits}
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
		c, err := d.stageRoom(bytes)
		if err != nil {
			return fmt.Errorf("stage %d bytes: %w", bytes, err)
		}
		host := c.host + uintptr(c.off)
		copy(unsafe.Slice((*byte)(cPtr(host)), bytes), unsafe.Slice((*byte)(src), bytes))
		drv := d.drv
		if err := drv.check("cuMemcpyHtoDAsync_v2", drv.cuMemcpyHtoDAsync(uintptr(dst), cPtr(host), uint64(bytes), d.stream)); err != nil {
			return err
		}
		c.off += (bytes + stageAlign - 1) &^ (stageAlign - 1)
		return drv.check("cuEventRecord", drv.cuEventRecord(c.ev, d.stream))
	})
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
func (d *Device) stageRoom(n int) (*stageChunk, error) {
	s := &d.stage
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
		return d.newStageChunk(size)
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

func (d *Device) newStageChunk(size int) (*stageChunk, error) {
	host, err := d.pinned.Alloc(size)
	if err != nil {
		return nil, err
	}
	c := &stageChunk{host: host, size: size}
	// CU_EVENT_DISABLE_TIMING (2): an ordering-only event is cheaper.
	if err := d.drv.check("cuEventCreate", d.drv.cuEventCreate(&c.ev, 2)); err != nil {
		return nil, errors.Join(err, d.pinned.Free(host))
	}
	s := &d.stage
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

// closeStage returns the staging chunks to the pinned pool after the
// streams have drained; called with the Device's lock held.
func (d *Device) closeStage() error {
	var errs []error
	for _, c := range d.stage.chunks {
		errs = append(errs, d.drv.check("cuEventDestroy_v2", d.drv.cuEventDestroy(c.ev)), d.pinned.Free(c.host))
	}
	d.stage = stager{}
	return errors.Join(errs...)
}
