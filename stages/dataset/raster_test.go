package dataset

import "testing"

func TestRLECounts(t *testing.T) {
	// 3 wide, 2 high; ones at (1,0), (1,1), (2,1). Column-major order:
	// x=0: 0 0, x=1: 1 1, x=2: 0 1 -> runs 2 zeros, 2 ones, 1 zero, 1 one.
	on := map[[2]int]bool{{1, 0}: true, {1, 1}: true, {2, 1}: true}
	got := rleCounts(func(x, y int) bool { return on[[2]int{x, y}] }, 3, 2)
	want := []int{2, 2, 1, 1}
	if len(got) != len(want) {
		t.Fatalf("rleCounts = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("rleCounts = %v, want %v", got, want)
		}
	}
	if got := rleCounts(func(x, y int) bool { return true }, 2, 2); len(got) != 2 || got[0] != 0 || got[1] != 4 {
		t.Errorf("all-ones mask: %v, want [0 4]", got)
	}
}
