package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/detflow/detflow/internal/team"
)

// gemmCall is one Sgemm invocation's operands.
type gemmCall struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	src            Source // computes B when not nil (b unused)
	// rows, when not nil, has B read in place, unpacked: op(B)[p][j] is
	// b[rows[p]+j] (transB false, src nil). See SgemmRows. strided asks
	// run to set rows to B's stored rows, p·ldb.
	rows    []int
	strided bool
	beta    float32
	c       []float32
	ldc     int
}

// workspace is the packing memory of one call: the packed B panel (two,
// when several workers overlap packing the next panel with multiplying the
// current one), one packed A block and one edge tile per worker, and the
// call's schedule. Workspaces are recycled through the workspaces free
// list so steady-state calls do not allocate.
type workspace struct {
	call    gemmCall
	packedB [2][]float32
	packedA [][]float32
	// holds[w] is the block of op(A) in packedA[w]: its first row and
	// column, or -1s. A worker that takes the next run of slivers of the
	// same block keeps it instead of packing it again.
	holds  [][2]int
	tiles  [][]float32
	spans  [][]float32 // per worker: rows of a computed B (Source)
	rows   []int       // offsets of B's rows (gemmCall.strided)
	panels []panel
	steps  []step
	claims []claim
	// refs counts the team members still inside the call; the last one out
	// recycles the workspace (see team).
	refs atomic.Int32
	// Members that stop spinning at a step's barrier sleep on cond (see
	// waitStep); waiters tells the finisher of a step to wake them.
	mu      sync.Mutex
	cond    sync.Cond
	waiters atomic.Int32
}

// workspaces is a free list of workspaces for any goroutine to take. Not a
// sync.Pool: the last team member out returns the workspace, often a
// helper on another processor, and a sync.Pool keeps a returned item in
// that processor's private slot, out of the caller's reach; the caller
// then made a new workspace (packed panels of up to 10 MB) on almost every
// call, which raised evaluation's peak memory by 60%. At most
// 2*GOMAXPROCS are kept.
var workspaces struct {
	mu   sync.Mutex
	free []*workspace
}

func takeWorkspace() *workspace {
	workspaces.mu.Lock()
	defer workspaces.mu.Unlock()
	if n := len(workspaces.free); n > 0 {
		ws := workspaces.free[n-1]
		workspaces.free[n-1] = nil
		workspaces.free = workspaces.free[:n-1]
		return ws
	}
	ws := new(workspace)
	ws.cond.L = &ws.mu
	return ws
}

// getWorkspace returns a workspace with room for the given sizes (spanLen
// 0: B is stored, no span buffers).
func getWorkspace(bLen, bufs, aLen, tileLen, spanLen, workers int) *workspace {
	ws := takeWorkspace()
	for i := range bufs {
		ws.packedB[i] = grow(ws.packedB[i], bLen)
	}
	ws.packedA = growEach(ws.packedA, workers, aLen)
	ws.holds = ws.holds[:0]
	for range workers {
		ws.holds = append(ws.holds, [2]int{-1, -1})
	}
	ws.tiles = growEach(ws.tiles, workers, tileLen)
	if spanLen > 0 {
		ws.spans = growEach(ws.spans, workers, spanLen)
	}
	ws.panels, ws.steps = ws.panels[:0], ws.steps[:0]
	return ws
}

// growEach returns s with at least n slices of m elements.
func growEach(s [][]float32, n, m int) [][]float32 {
	for len(s) < n {
		s = append(s, nil)
	}
	for i := range s[:n] {
		s[i] = grow(s[i], m)
	}
	return s
}

// release drops the caller's matrices (the pool must not keep them alive)
// and recycles the workspace.
func (ws *workspace) release() {
	ws.call = gemmCall{}
	workspaces.mu.Lock()
	if len(workspaces.free) < 2*runtime.GOMAXPROCS(0) {
		workspaces.free = append(workspaces.free, ws)
	}
	workspaces.mu.Unlock()
}

// grow returns s resliced to n elements, reallocating when too small.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// run computes the product with micro-kernel kern, blocking bl and up to
// workers goroutines, as a schedule of steps over the (jc, pc) panels of
// op(B) in order (blocking.go). Step 0 packs the first panel; step s+1
// multiplies panel s and packs panel s+1 into the other buffer. A multiply
// task packs one block of op(A) into its worker's own buffer (it stays in
// that core's L2) and runs the micro-kernel over a run of the panel's
// slivers. Only B is shared between workers, and one barrier per panel
// separates the steps.
//
// The call is copied into the pooled workspace so that the steps can point
// at it without a heap allocation per call.
func (call gemmCall) run(kern microKernel, bl blocking, workers int) {
	// Equal k steps no larger than bl.kc, so the last is not a sliver.
	kc := ceilDiv(call.k, ceilDiv(call.k, bl.kc))
	nc := min(bl.nc, roundUp(call.n, kern.nr))
	inPlace := call.rows != nil || call.strided
	mc := blockRows(call.m, kern.mr, bl.mc, workers, inPlace && ceilDiv(nc, kern.nr) >= 8*workers)
	bufs := 1
	if workers > 1 {
		bufs = 2
	}
	spanLen, bLen := 0, kc*roundUp(nc, kern.nr)
	if call.src != nil {
		spanLen = max(nc, kern.nr*kc) // one row, or one sliver's rows
	}
	if inPlace {
		spanLen, bLen = kern.nr*kc, 0 // an edge sliver, packed
	}
	ws := getWorkspace(bLen, bufs, mc*kc, kern.mr*kern.nr, spanLen, workers)
	ws.call = call
	g := &ws.call
	if g.strided {
		if cap(ws.rows) < g.k {
			ws.rows = make([]int, g.k)
		}
		g.rows = ws.rows[:g.k]
		for p := range g.rows {
			g.rows[p] = p * g.ldb
		}
	}

	for jc := 0; jc < g.n; jc += nc {
		for pc := 0; pc < g.k; pc += kc {
			p := panel{g: g, ws: ws, kern: kern, buf: len(ws.panels) % bufs,
				pc: pc, kc: min(kc, g.k-pc), jc: jc, nc: min(nc, g.n-jc), mc: mc, beta: 1}
			if pc == 0 {
				p.beta = g.beta
			}
			p.layout(workers)
			ws.panels = append(ws.panels, p)
		}
	}
	// Steps point into ws.panels, which no longer grows.
	var prev *panel
	for i := range ws.panels {
		ws.steps = append(ws.steps, newStep(prev, &ws.panels[i]))
		prev = &ws.panels[i]
	}
	ws.steps = append(ws.steps, newStep(prev, nil))
	if workers <= 1 {
		for i := range ws.steps {
			s := &ws.steps[i]
			for t := 0; t < s.tasks; t++ {
				s.do(0, t)
			}
		}
		ws.release()
		return
	}
	ws.team(workers)
}

// blockRows is the height of the op(A) blocks: at most maxRows (an L2-sized
// block), and with several workers small enough that each gets about eight
// blocks to balance, but never below one micro-panel. With wide enough
// panels (wide) the workers split the slivers instead and the blocks stay
// L2-sized, so that each sliver of B goes through L1 once per block rather
// than once per micro-panel. The driver asks for that where B is read in
// place (m=64, n=67200, k=64: 254 vs 180 GFLOP/s on two workers). Packed B
// gained on some shapes and lost on others (a conv weight gradient with
// m=64, n=576, k=3136: 180 vs 166; m=256, n=2304, k=196: 280 vs 295) and
// nothing on a ResNet step, so it keeps the narrow blocks.
func blockRows(m, mr, maxRows, workers int, wide bool) int {
	blocks := ceilDiv(m, maxRows)
	if workers > 1 && !wide {
		blocks = max(blocks, 8*workers)
	}
	return min(roundUp(ceilDiv(m, blocks), mr), roundUp(maxRows, mr))
}

// panel is one kc×nc panel of op(B) with the multiply of every op(A) block
// by it. Multiply task t is block t/chunks times sliver run t%chunks; runs
// are split only when there are too few blocks to keep the workers busy.
type panel struct {
	g               *gemmCall
	ws              *workspace
	kern            microKernel
	buf             int // which packed-B buffer
	pc, kc, jc, nc  int
	mc              int
	beta            float32
	slivers         int
	packs, packRows int // packing tasks; rows of untransposed B per task
	blocks, chunks  int
	perChunk        int
}

// layout splits the panel into packing and multiplying tasks.
func (p *panel) layout(workers int) {
	p.slivers = ceilDiv(p.nc, p.kern.nr)
	// One packing task per 4 slivers balances the steps; untransposed B is
	// packed in bands of rows across all slivers (see packBRows).
	p.packs = ceilDiv(p.slivers, slivPerPack)
	p.packRows = ceilDiv(p.kc, p.packs)
	if !p.g.transB {
		p.packs = ceilDiv(p.kc, p.packRows)
	}
	if p.g.rows != nil {
		p.packs = 0 // B is read in place
	}
	p.blocks = ceilDiv(p.g.m, p.mc)
	p.chunks = 1
	if workers > 1 {
		p.chunks = min(p.slivers, ceilDiv(4*workers, p.blocks))
	}
	p.perChunk = ceilDiv(p.slivers, p.chunks)
	p.chunks = ceilDiv(p.slivers, p.perChunk)
}

// slivPerPack is the slivers per packing task of transposed B; untransposed
// B gets as many tasks, each a band of rows.
const slivPerPack = 4

func (p *panel) packTasks() int { return p.packs }
func (p *panel) mulTasks() int  { return p.blocks * p.chunks }

// packB packs packing task t's part of the panel into its buffer: a band
// of rows of untransposed B, or a run of slivers of transposed B. Worker w
// runs it (its span buffer holds the rows of a computed B).
func (p *panel) packB(w, t int) {
	g, dst, nr := p.g, p.ws.packedB[p.buf], p.kern.nr
	if !g.transB {
		p0 := t * p.packRows
		p1 := min(p0+p.packRows, p.kc)
		if g.src != nil {
			packBRowsFrom(dst, g.src, p.ws.spans[w], p.pc, p.kc, p.jc, p.nc, nr, p0, p1)
			return
		}
		packBRows(dst, g.b, g.ldb, p.pc, p.kc, p.jc, p.nc, nr, p0, p1)
		return
	}
	s0 := t * slivPerPack
	s1 := min(s0+slivPerPack, p.slivers)
	if g.src != nil {
		packBTFrom(dst, g.src, p.ws.spans[w], p.pc, p.kc, p.jc, p.nc, nr, s0, s1, p.kern.simd)
		return
	}
	packBT(dst, g.b, g.ldb, p.pc, p.kc, p.jc, p.nc, nr, s0, s1, p.kern.simd)
}

// multiply packs block t/chunks of op(A) into worker w's buffer, unless
// the buffer holds it already, and multiplies it by sliver run t%chunks of
// the packed panel.
func (p *panel) multiply(w, t int) {
	g, kern := p.g, p.kern
	blk, chunk := t/p.chunks, t%p.chunks
	ic := blk * p.mc
	mc := min(p.mc, g.m-ic)
	a := p.ws.packedA[w]
	if held := &p.ws.holds[w]; *held != [2]int{ic, p.pc} {
		packA(a, g.a, g.lda, g.transA, g.alpha, ic, mc, p.pc, p.kc, kern.mr, kern.simd)
		*held = [2]int{ic, p.pc}
	}
	s0 := chunk * p.perChunk
	if g.rows != nil {
		g.macroKernelRows(p.ws.tiles[w], p.ws.spans[w], a, kern, ic, mc, p.pc, p.kc, p.jc, p.nc, s0, min(s0+p.perChunk, p.slivers), p.beta)
		return
	}
	g.macroKernel(p.ws.tiles[w], a, p.ws.packedB[p.buf], kern, ic, mc, p.kc, p.jc, p.nc, s0, min(s0+p.perChunk, p.slivers), p.beta)
}

// step is one phase of a call's schedule: the multiplies of panel mul and
// the packing of panel pack (either may be nil). Its tasks may run in any
// order and in parallel, but only after every task of the previous step
// has finished. Multiplies come first, so the small packing tasks fill the
// end of the step and the workers reach the barrier together.
type step struct {
	mul, pack *panel
	muls      int
	tasks     int
}

func newStep(mul, pack *panel) step {
	s := step{mul: mul, pack: pack}
	if mul != nil {
		s.muls = mul.mulTasks()
	}
	s.tasks = s.muls
	if pack != nil {
		s.tasks += pack.packTasks()
	}
	return s
}

func (s *step) do(w, t int) {
	if t < s.muls {
		s.mul.multiply(w, t)
		return
	}
	s.pack.packB(w, t-s.muls)
}

// claim is the task bookkeeping of one step: next hands out tasks, done
// counts finished ones. The padding keeps steps on separate cache lines.
type claim struct {
	next, done atomic.Int64
	_          [48]byte
}

// team runs the schedule on the caller's goroutine and workers-1 helpers
// from the process-wide pool (internal/team), started once per call. Every
// member walks the steps in order, claiming tasks from each step's
// counter; when a step has none left, it waits for the ones still running
// elsewhere (waitStep). A helper that starts late skips finished steps.
//
// Helpers matter more than the schedule at small sizes: a parked thread
// takes 40-100 µs to wake on the 2-core VM, as long as a whole n=256
// product. Per-step goroutines held n=512 to 1.5x on two cores, per-call
// goroutines n=256 to 1.1x; the pool's helpers poll for the next job for
// 100 µs before parking, which gives 1.8-1.9x from n=256 up. (A pool of
// GEMM's own slowed ResNet training by 2-4%: its polling helpers held the
// processor that the engine's other parallel loops then waited for; with
// one pool for all of them that cost is gone.)
func (ws *workspace) team(workers int) {
	n := len(ws.steps)
	if cap(ws.claims) < n {
		ws.claims = make([]claim, n)
	}
	ws.claims = ws.claims[:n]
	for i := range ws.claims {
		ws.claims[i].next.Store(0)
		ws.claims[i].done.Store(0)
	}
	// The caller waits for every step's tasks but not for the helpers: one
	// that starts after the last step has nothing to do but leave, and the
	// last member out recycles the workspace.
	ws.refs.Store(int32(workers))
	for w := 1; w < workers; w++ {
		team.Start(func() { ws.member(w) })
	}
	ws.member(0)
}

// member is one team member's walk through the schedule.
func (ws *workspace) member(w int) {
	for i := range ws.steps {
		s, c := &ws.steps[i], &ws.claims[i]
		for {
			t := int(c.next.Add(1) - 1)
			if t >= s.tasks {
				break
			}
			s.do(w, t)
			if c.done.Add(1) == int64(s.tasks) && ws.waiters.Load() > 0 {
				ws.mu.Lock()
				ws.cond.Broadcast()
				ws.mu.Unlock()
			}
		}
		ws.waitStep(c, int64(s.tasks))
	}
	if ws.refs.Add(-1) == 0 {
		ws.release()
	}
}

// spinWait is how long a member spins at a barrier before sleeping: about
// one multiply task (50-500 µs), the most the other members normally need
// to finish theirs; it yields to other goroutines (replicas sharing the
// cores) as it spins. Sleeping sooner costs a thread wake-up (40-100 µs on
// the 2-core VM) at most barriers: with 50 µs, n=1024 ran 1.84x on two
// cores instead of 1.89x. A member whose partner was descheduled by another
// process stops burning the core after it.
const spinWait = 200 * time.Microsecond

// waitStep returns when all tasks of a step are done: it spins for up to
// spinWait, then sleeps until the member finishing the last task wakes it.
// (Atomics are sequentially consistent: a finisher that sees no waiter
// finished before the waiter's own check of done.)
func (ws *workspace) waitStep(c *claim, tasks int64) {
	var start time.Time
	for spin := 0; c.done.Load() < tasks; spin++ {
		if spin%64 != 63 {
			continue
		}
		runtime.Gosched()
		if start.IsZero() {
			start = time.Now()
		} else if time.Since(start) > spinWait {
			ws.waiters.Add(1)
			ws.mu.Lock()
			for c.done.Load() < tasks {
				ws.cond.Wait()
			}
			ws.mu.Unlock()
			ws.waiters.Add(-1)
			return
		}
	}
}

// macroKernel runs the micro-kernel over every MR×NR tile of the block
// C[ic:ic+mc, slivers s0..s1 of the panel at jc], packedA holding the
// block's A micro-panels. Tiles that stick out of C are computed into tile
// and the valid part merged.
func (g *gemmCall) macroKernel(tile, packedA, packedB []float32, kern microKernel, ic, mc, kc, jc, nc, s0, s1 int, beta float32) {
	mr, nr := kern.mr, kern.nr
	for s := s0; s < s1; s++ {
		bs := packedB[s*kc*nr : (s+1)*kc*nr]
		j := jc + s*nr
		w := min(nr, jc+nc-j)
		for r := 0; r*mr < mc; r++ {
			as := packedA[r*kc*mr : (r+1)*kc*mr]
			i := ic + r*mr
			h := min(mr, ic+mc-i)
			if h == mr && w == nr {
				kern.fn(kc, as, bs, g.c[i*g.ldc+j:], g.ldc, beta)
				continue
			}
			kern.edgeFn(h, w)(kc, as, bs, tile, nr, 0)
			mergeTile(g.c[i*g.ldc+j:], g.ldc, tile, nr, h, w, beta)
		}
	}
}

// macroKernelRows is macroKernel with B read in place through g.rows: full
// slivers go to the rows kernel, an edge sliver is packed into sliver first.
func (g *gemmCall) macroKernelRows(tile, sliver, packedA []float32, kern microKernel, ic, mc, pc, kc, jc, nc, s0, s1 int, beta float32) {
	mr, nr := kern.mr, kern.nr
	rows := g.rows[pc : pc+kc]
	for s := s0; s < s1; s++ {
		j := jc + s*nr
		w := min(nr, jc+nc-j)
		if w < nr {
			for p, r := range rows {
				copy(sliver[p*nr:p*nr+w], g.b[r+j:r+j+w])
				clear(sliver[p*nr+w : (p+1)*nr])
			}
		}
		for r := 0; r*mr < mc; r++ {
			as := packedA[r*kc*mr : (r+1)*kc*mr]
			i := ic + r*mr
			h := min(mr, ic+mc-i)
			switch {
			case w < nr:
				kern.edgeFn(h, w)(kc, as, sliver, tile, nr, 0)
			case h == mr:
				kern.rowsFn(kc, as, &g.b[j], rows, g.c[i*g.ldc+j:], g.ldc, beta)
				continue
			default:
				kern.edgeRowsFn(h)(kc, as, &g.b[j], rows, tile, nr, 0)
			}
			mergeTile(g.c[i*g.ldc+j:], g.ldc, tile, nr, h, w, beta)
		}
	}
}

// mergeTile sets C[i][j] = tile[i][j] + beta*C[i][j] for the h×w valid part
// of an edge tile, not reading C when beta == 0.
func mergeTile(c []float32, ldc int, tile []float32, nr, h, w int, beta float32) {
	for i := 0; i < h; i++ {
		crow := c[i*ldc : i*ldc+w]
		trow := tile[i*nr : i*nr+w]
		if beta == 0 {
			copy(crow, trow)
			continue
		}
		for j, v := range trow {
			crow[j] = v + beta*crow[j]
		}
	}
}
