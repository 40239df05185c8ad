package tensor

// Collective sums and broadcasts buffers across a fixed group of devices,
// one per data-parallel replica (rank), with a collective communications
// library such as NCCL: the library moves the data between GPUs directly,
// for all tensors in one call, instead of one host-synchronised peer copy
// per tensor through CopyAcross. Work is queued in each device's order, as
// the devices' kernels are.
type Collective interface {
	// ReduceSum sums bufs[t][r] over the ranks r into bufs[t][0], for
	// every t; bufs[t][r] is a buffer of rank r's device.
	ReduceSum(bufs [][]Buffer) error
	// Broadcast copies bufs[t][0] into bufs[t][r] for every t and r > 0.
	Broadcast(bufs [][]Buffer) error
	// String names the library, e.g. "NCCL 2.27.3".
	String() string
	// Close releases the communicators.
	Close() error
}

// CollectiveMaker is implemented by devices that can form a Collective
// with peers of their kind. When they cannot (the library is missing, the
// group repeats a GPU), NewCollective says why and the caller falls back
// to CopyAcross.
type CollectiveMaker interface {
	NewCollective(group []Device) (Collective, error)
}

// EnsureGrad gives t a zero gradient when backward left it without one (a
// branch the step did not use), so that every replica has a buffer to
// contribute to a collective sum.
func (t *Tensor) EnsureGrad() {
	if t.gradSet {
		return
	}
	g := t.eng.get(t.Len())
	t.eng.dev.Fill(g, 0)
	t.eng.accumulate(t, g)
}
