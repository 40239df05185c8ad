package train

import (
	"context"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages/records"
)

// shuffleBuffer is how many records an epoch's stream mixes at once on top
// of the shuffled shard order; it bounds the loader's memory.
const shuffleBuffer = 256

// loadAhead is how many batches the loader queues beyond the one it hands
// over: enough to hide an uneven batch's decode behind a step.
const loadAhead = 2

// seeded returns a generator for (seed, purpose, a, b): every random choice
// of a run is a pure function of the seed and what it is for.
func seeded(seed int64, purpose string, a, b uint64) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(purpose))
	return rand.New(rand.NewPCG(uint64(seed)^h.Sum64(), a<<32^b))
}

// epochBatches produces one epoch's batches of size n for a batch.Loader:
// shards in a seeded order, records mixed in a bounded shuffle buffer,
// batches formed within aspect-ratio groups (landscape, portrait) as
// MMDetection's GroupSampler does. A group's last partial batch is filled by
// repeating its own first images, so every batch has n images. Each image's
// flip generator depends only on the seed, the epoch and its position, so
// the batches do not depend on how many goroutines prepare them.
func epochBatches(rd *records.Reader, epoch, n int, seed int64) func(context.Context, batch.AddFunc) error {
	return func(ctx context.Context, add batch.AddFunc) error {
		rng := seeded(seed, "epoch order", uint64(epoch), 0)
		order := rng.Perm(len(rd.Index.Shards))
		var buf []*schemas.Record
		groups := [2][]*schemas.Record{}
		pos := 0
		emit := func(recs []*schemas.Record) bool {
			flips := make([]*rand.Rand, len(recs))
			for i := range recs {
				flips[i] = seeded(seed, "flip", uint64(epoch), uint64(pos))
				pos++
			}
			return add(recs, flips)
		}
		group := func(r *schemas.Record) bool {
			g := 0
			if r.Width < r.Height {
				g = 1
			}
			groups[g] = append(groups[g], r)
			if len(groups[g]) == n {
				recs := groups[g]
				groups[g] = nil
				return emit(recs)
			}
			return true
		}
		for _, si := range order {
			err := rd.ReadShard(ctx, si, func(r *schemas.Record) error {
				buf = append(buf, cloneRecord(r))
				if len(buf) < shuffleBuffer {
					return nil
				}
				i := rng.IntN(len(buf))
				pick := buf[i]
				buf[i] = buf[len(buf)-1]
				buf = buf[:len(buf)-1]
				if !group(pick) {
					return context.Canceled
				}
				return nil
			})
			if err != nil {
				if ctx.Err() != nil || err == context.Canceled {
					return nil // stopped by the consumer
				}
				return err
			}
		}
		rng.Shuffle(len(buf), func(i, j int) { buf[i], buf[j] = buf[j], buf[i] })
		for _, r := range buf {
			if !group(r) {
				return nil
			}
		}
		for _, g := range groups {
			if len(g) == 0 {
				continue
			}
			for i := 0; len(g) < n; i++ {
				g = append(g, g[i%len(g)])
			}
			if !emit(g) {
				return nil
			}
		}
		return nil
	}
}

// itersPerEpoch is the number of batches of n an epoch of images gives,
// assuming one aspect-ratio group (exact for the synthetic set; an estimate
// used for progress and ETA otherwise).
func itersPerEpoch(images, n int) int { return (images + n - 1) / n }

// cloneRecord copies a record out of the reader's reused buffers.
func cloneRecord(r *schemas.Record) *schemas.Record {
	c := *r
	c.Image = slices.Clone(r.Image)
	c.GTBoxes = slices.Clone(r.GTBoxes)
	c.GTLabels = slices.Clone(r.GTLabels)
	c.GTCategoryIDs = slices.Clone(r.GTCategoryIDs)
	c.GTCrowd = slices.Clone(r.GTCrowd)
	c.GTMasks = slices.Clone(r.GTMasks)
	for i, m := range c.GTMasks {
		c.GTMasks[i] = strings.Clone(m) // may share the reader's page buffer
	}
	c.ProposalBoxes = slices.Clone(r.ProposalBoxes)
	c.ProposalScores = slices.Clone(r.ProposalScores)
	return &c
}
