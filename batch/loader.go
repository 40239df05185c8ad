package batch

import (
	"context"
	"math/rand/v2"
	"sync"

	"github.com/detflow/detflow/schemas"
)

// Loaded is one batch of prepared items, in the order its records were
// added, or the error that stopped loading.
type Loaded struct {
	Items []*Item
	Err   error
}

// AddFunc queues one batch of records (rngs[i] decides record i's flip) and
// says whether loading goes on; false once the loader is stopped.
type AddFunc func(recs []*schemas.Record, rngs []*rand.Rand) bool

// Loader prepares batches ahead of their use: a producer adds batches of
// records, up to Workers images are decoded and transformed at once on
// other goroutines (across batch boundaries), and Batches hands back the
// prepared batches in the order they were added, at most Ahead batches
// ahead of the consumer. Prepare is a pure function of the record, the
// options and the rng, so the batches equal a serial loop's whatever the
// number of workers.
type Loader struct {
	opts    Options
	train   bool
	ctx     context.Context
	cancel  context.CancelFunc
	sem     chan struct{} // one token per running preparation
	pending chan []*future
	out     chan Loaded
	wg      sync.WaitGroup
	fail    error // the producer's error, sent after its batches
}

// future is one image being prepared.
type future struct {
	done chan struct{}
	it   *Item
	err  error
}

// NewLoader starts produce on its own goroutine, with an AddFunc to queue
// batches; a non-nil error it returns is delivered after the batches it
// added. Ahead counts the batches queued beyond the one being handed over;
// workers or ahead below 1 mean 1.
func NewLoader(ctx context.Context, o Options, train bool, workers, ahead int,
	produce func(ctx context.Context, add AddFunc) error) *Loader {
	ctx, cancel := context.WithCancel(ctx)
	l := &Loader{opts: o, train: train, ctx: ctx, cancel: cancel,
		sem: make(chan struct{}, max(workers, 1)), pending: make(chan []*future, max(ahead, 1)),
		out: make(chan Loaded)}
	l.wg.Add(2)
	go func() {
		defer l.wg.Done()
		defer close(l.pending)
		l.fail = produce(ctx, l.add) // read by assemble once pending is closed
	}()
	go l.assemble()
	return l
}

// Batches yields the prepared batches in order; it is closed after the last
// one, after an error, or once the loader is stopped.
func (l *Loader) Batches() <-chan Loaded { return l.out }

// Stop ends loading and waits until every goroutine of the loader has
// returned. Safe to call more than once, and after the last batch.
func (l *Loader) Stop() {
	l.cancel()
	for range l.out { // unblock the assembler's pending send
	}
	l.wg.Wait()
}

// add starts preparing every record of a batch (blocking while Workers
// preparations run) and queues the batch.
func (l *Loader) add(recs []*schemas.Record, rngs []*rand.Rand) bool {
	fs := make([]*future, len(recs))
	for i, r := range recs {
		select {
		case l.sem <- struct{}{}:
		case <-l.ctx.Done():
			return false
		}
		f := &future{done: make(chan struct{})}
		fs[i] = f
		l.wg.Add(1)
		go func(r *schemas.Record, rng *rand.Rand) {
			defer l.wg.Done()
			f.it, f.err = Prepare(r, l.opts, l.train, rng)
			<-l.sem
			close(f.done)
		}(r, rngs[i])
	}
	select {
	case l.pending <- fs:
		return true
	case <-l.ctx.Done():
		return false
	}
}

// assemble waits for each queued batch's images in order and sends the
// batch on; the first failed image ends loading.
func (l *Loader) assemble() {
	defer l.wg.Done()
	defer close(l.out)
	for fs := range l.pending {
		b := Loaded{Items: make([]*Item, 0, len(fs))}
		for _, f := range fs {
			select {
			case <-f.done:
			case <-l.ctx.Done():
				return
			}
			if f.err != nil {
				b.Err = f.err
				break
			}
			b.Items = append(b.Items, f.it)
		}
		if !l.send(b) || b.Err != nil {
			l.cancel()
			return
		}
	}
	if l.fail != nil && l.ctx.Err() == nil {
		l.send(Loaded{Err: l.fail})
	}
}

func (l *Loader) send(b Loaded) bool {
	select {
	case l.out <- b:
		return true
	case <-l.ctx.Done():
		return false
	}
}
