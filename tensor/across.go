package tensor

// PeerCopier is implemented by devices that can copy straight from a buffer
// of another device (GPU to GPU), without a trip through host memory.
type PeerCopier interface {
	// CopyPeer copies src, a buffer of device from, into dst, a buffer of
	// the receiver, and reports false when from is not a device it can copy
	// from. The copy sees all work queued on from before the call.
	CopyPeer(dst Buffer, from Device, src Buffer) bool
}

// CopyAcross copies src's values into dst (same element count), where the
// two may live on different engines and devices: data-parallel replicas use
// it to gather gradients and to share parameters. CPU engines copy slices,
// devices implementing PeerCopier copy directly, and any other pair goes
// through host memory.
func CopyAcross(dst, src *Tensor) {
	if dst.Len() != src.Len() {
		Panicf("tensor: copy across engines from shape %v into %v", src.shape, dst.shape)
	}
	dd, sd := dst.eng.dev, src.eng.dev
	if dst.eng == src.eng {
		dd.Copy(dst.buf, src.buf)
		return
	}
	_, dstCPU := dd.(*CPU)
	_, srcCPU := sd.(*CPU)
	if dstCPU && srcCPU {
		copy(CPUData(dst.buf), CPUData(src.buf))
		return
	}
	if p, ok := dd.(PeerCopier); ok && p.CopyPeer(dst.buf, sd, src.buf) {
		return
	}
	host := make([]float32, src.Len())
	sd.Download(host, src.buf)
	dd.Upload(dst.buf, host)
}
