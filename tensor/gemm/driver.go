package gemm

import (
	"sync"
	"sync/atomic"
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
	beta           float32
	c              []float32
	ldc            int
}

// workspace is the packing memory of one call: the shared packed B panel,
// the shared packed A group and one edge tile per worker. Workspaces are
// recycled through workspacePool so steady-state calls do not allocate.
type workspace struct {
	call    gemmCall
	packedB []float32
	packedA []float32
	tiles   [][]float32
}

var workspacePool = sync.Pool{New: func() any { return new(workspace) }}

// getWorkspace returns a workspace with room for the given sizes.
func getWorkspace(bLen, aLen, tileLen, workers int) *workspace {
	ws := workspacePool.Get().(*workspace)
	ws.packedB = grow(ws.packedB, bLen)
	ws.packedA = grow(ws.packedA, aLen)
	for len(ws.tiles) < workers {
		ws.tiles = append(ws.tiles, nil)
	}
	for i := range ws.tiles[:workers] {
		ws.tiles[i] = grow(ws.tiles[i], tileLen)
	}
	return ws
}

// grow returns s resliced to n elements, reallocating when too small.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// run computes the product with micro-kernel kern, blocking bl and up to
// workers goroutines. For each kc×nc panel of op(B) and each group of rows
// of op(A), one parallel phase packs (B slivers and A blocks as tasks) and a
// second multiplies (A block × run of B slivers as tasks).
//
// The call is copied into the pooled workspace so that the phases can point
// at it without a heap allocation per call.
func (call gemmCall) run(kern microKernel, bl blocking, workers int) {
	// Equal k steps no larger than bl.kc, so the last is not a sliver.
	kc := ceilDiv(call.k, ceilDiv(call.k, bl.kc))
	nc := min(bl.nc, roundUp(call.n, kern.nr))
	// Equal-sized A blocks, each a multiple of MR, no larger than bl.mc.
	mc := roundUp(ceilDiv(call.m, ceilDiv(call.m, bl.mc)), kern.mr)
	mg := min(roundUp(call.m, mc), max(1, bl.groupRows/mc)*mc)
	ws := getWorkspace(kc*roundUp(nc, kern.nr), mg*kc, kern.mr*kern.nr, workers)
	ws.call = call
	g := &ws.call
	defer func() {
		ws.call = gemmCall{} // do not keep the caller's matrices alive
		workspacePool.Put(ws)
	}()

	for jc := 0; jc < g.n; jc += nc {
		ncur := min(nc, g.n-jc)
		for pc := 0; pc < g.k; pc += kc {
			kcur := min(kc, g.k-pc)
			beta := float32(1)
			if pc == 0 {
				beta = g.beta
			}
			for ig := 0; ig < g.m; ig += mg {
				mgcur := min(mg, g.m-ig)
				g.pack(ws, kern, workers, ig == 0, ig, mgcur, pc, kcur, jc, ncur)
				g.compute(ws, kern, workers, ig, mgcur, mc, kcur, jc, ncur, beta)
			}
		}
	}
}

// pack packs the A group op(A)[ig:ig+mg, pc:pc+kc] and, when withB, the B
// panel op(B)[pc:pc+kc, jc:jc+nc], as tasks of one parallel phase: a few
// micro-panels of A or slivers of B each, small enough that one A block is
// shared out among all workers.
func (g *gemmCall) pack(ws *workspace, kern microKernel, workers int, withB bool, ig, mg, pc, kc, jc, nc int) {
	const panelsPerTask = 4
	ph := packPhase{g: g, ws: ws, kern: kern, ig: ig, mg: mg, pc: pc, kc: kc, jc: jc, nc: nc}
	ph.rowsPerTask = panelsPerTask * kern.mr
	ph.aTasks = ceilDiv(mg, ph.rowsPerTask)
	ph.slivers = ceilDiv(nc, kern.nr)
	ph.sliversPerTask = panelsPerTask
	bTasks := 0
	if withB {
		bTasks = ceilDiv(ph.slivers, panelsPerTask)
	}
	runPhase(workers, ph.aTasks+bTasks, ph)
}

// packPhase is one packing phase; tasks [0, aTasks) pack rows of A, the
// rest slivers of B.
type packPhase struct {
	g                       *gemmCall
	ws                      *workspace
	kern                    microKernel
	ig, mg, pc, kc, jc, nc  int
	rowsPerTask, aTasks     int
	slivers, sliversPerTask int
}

func (ph packPhase) do(_, t int) {
	g, kern := ph.g, ph.kern
	if t < ph.aTasks {
		i := t * ph.rowsPerTask
		packA(ph.ws.packedA[i*ph.kc:], g.a, g.lda, g.transA, g.alpha, ph.ig+i, min(ph.rowsPerTask, ph.mg-i), ph.pc, ph.kc, kern.mr, kern.simd)
		return
	}
	s0 := (t - ph.aTasks) * ph.sliversPerTask
	s1 := min(s0+ph.sliversPerTask, ph.slivers)
	packB(ph.ws.packedB, g.b, g.ldb, g.transB, ph.pc, ph.kc, ph.jc, ph.nc, kern.nr, s0, s1, kern.simd)
}

// compute multiplies every packed A block of the group by the packed B
// panel. A task is one A block times a run of B slivers; when there are few
// A blocks the panel's slivers are split so that every worker has work.
func (g *gemmCall) compute(ws *workspace, kern microKernel, workers, ig, mg, mc, kc, jc, nc int, beta float32) {
	ph := computePhase{g: g, ws: ws, kern: kern, ig: ig, mg: mg, mc: mc, kc: kc, jc: jc, nc: nc, beta: beta}
	blocks := ceilDiv(mg, mc)
	ph.slivers = ceilDiv(nc, kern.nr)
	ph.chunks = 1
	if workers > 1 {
		ph.chunks = min(ph.slivers, ceilDiv(4*workers, blocks))
	}
	ph.perChunk = ceilDiv(ph.slivers, ph.chunks)
	ph.chunks = ceilDiv(ph.slivers, ph.perChunk)
	runPhase(workers, blocks*ph.chunks, ph)
}

// computePhase is one multiply phase; task t is A block t/chunks times
// sliver run t%chunks.
type computePhase struct {
	g                         *gemmCall
	ws                        *workspace
	kern                      microKernel
	ig, mg, mc, kc, jc, nc    int
	slivers, chunks, perChunk int
	beta                      float32
}

func (ph computePhase) do(w, t int) {
	blk, chunk := t/ph.chunks, t%ph.chunks
	ic := blk * ph.mc
	s0 := chunk * ph.perChunk
	s1 := min(s0+ph.perChunk, ph.slivers)
	ph.g.macroKernel(ph.ws.tiles[w], ph.ws.packedA[ic*ph.kc:], ph.ws.packedB, ph.kern, ph.ig+ic, min(ph.mc, ph.mg-ic), ph.kc, ph.jc, ph.nc, s0, s1, ph.beta)
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
			kern.fn(kc, as, bs, tile, nr, 0)
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

// runPhase runs p.do(worker, task) for every task in [0, tasks), on the
// caller's goroutine alone when one worker suffices. Only the parallel
// branch builds a closure, so the serial path does not allocate.
func runPhase[P interface{ do(worker, task int) }](workers, tasks int, p P) {
	if workers <= 1 || tasks <= 1 {
		for t := 0; t < tasks; t++ {
			p.do(0, t)
		}
		return
	}
	q := p
	parallelFor(workers, tasks, q.do)
}

// parallelFor runs body(worker, task) for task in [0, tasks) on up to
// workers goroutines (the caller's included) that claim tasks in order from
// a shared counter, so a worker slowed by other load simply takes fewer.
//
// Goroutines are started per phase and park when done. A team of helpers
// spinning between phases was tried: it saves the thread wake-up per phase
// on an idle machine but halved 2-thread throughput on the shared 2-core
// machine, where a spinning helper takes the core the caller needs.
func parallelFor(workers, tasks int, body func(worker, task int)) {
	workers = min(workers, tasks)
	if workers <= 1 {
		for t := 0; t < tasks; t++ {
			body(0, t)
		}
		return
	}
	var next atomic.Int64
	loop := func(w int) {
		for {
			t := int(next.Add(1) - 1)
			if t >= tasks {
				return
			}
			body(w, t)
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loop(w)
		}()
	}
	loop(0)
	wg.Wait()
}
