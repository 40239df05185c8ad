package records

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
)

// shardSpec is one Beam element: which images go to one shard, in order.
type shardSpec struct {
	Split    string
	Index    int
	Count    int
	ImageIDs []int64
}

// Name is the shard's file name.
func (s shardSpec) Name() string { return shardName(s.Index, s.Count) }

func shardName(i, n int) string { return fmt.Sprintf("shard-%05d-of-%05d.parquet", i, n) }

// planShards shuffles ids with a PCG seeded by (seed, split) and cuts them
// into shards of at most size images. The same inputs give the same shards
// whatever order ids come in.
func planShards(split string, ids []int64, size, seed int) []shardSpec {
	if size < 1 {
		size = 1
	}
	sorted := append([]int64(nil), ids...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	h := fnv.New64a()
	h.Write([]byte(split))
	rng := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
	rng.Shuffle(len(sorted), func(i, j int) { sorted[i], sorted[j] = sorted[j], sorted[i] })
	n := (len(sorted) + size - 1) / size
	specs := make([]shardSpec, n)
	for i := range specs {
		lo, hi := i*size, min((i+1)*size, len(sorted))
		specs[i] = shardSpec{Split: split, Index: i, Count: n, ImageIDs: sorted[lo:hi]}
	}
	return specs
}
