package selsearch

// disjointSet is a union-find forest over n elements with union by rank and
// path halving, tracking each set's size at its root.
type disjointSet struct {
	parent []int32
	rank   []uint8
	size   []int32
}

func newDisjointSet(n int) *disjointSet {
	d := &disjointSet{parent: make([]int32, n), rank: make([]uint8, n), size: make([]int32, n)}
	for i := range d.parent {
		d.parent[i] = int32(i)
		d.size[i] = 1
	}
	return d
}

// find returns the root of x's set.
func (d *disjointSet) find(x int32) int32 {
	for d.parent[x] != x {
		d.parent[x] = d.parent[d.parent[x]]
		x = d.parent[x]
	}
	return x
}

// union joins the sets with roots a and b (a != b) and returns the new root.
func (d *disjointSet) union(a, b int32) int32 {
	if d.rank[a] < d.rank[b] {
		a, b = b, a
	}
	d.parent[b] = a
	d.size[a] += d.size[b]
	if d.rank[a] == d.rank[b] {
		d.rank[a]++
	}
	return a
}
