package tensordev

import "testing"

func TestCheckSpan(t *testing.T) {
	tests := []struct {
		name    string
		shape   []int
		strides []int
		n       int
		ok      bool
	}{
		{"contiguous fits", []int{2, 3}, []int{3, 1}, 6, true},
		{"one past the end", []int{2, 3}, []int{3, 1}, 5, false},
		{"broadcast", []int{4, 7}, []int{0, 1}, 7, true},
		{"slice with gaps", []int{3, 5}, []int{11, 2}, 31, true},
		{"negative stride", []int{3}, []int{-1}, 3, false},
		{"empty shape reads nothing", []int{3, 0}, []int{5, 1}, 0, true},
		{"scalar", nil, nil, 1, true},
		{"stride count", []int{2, 3}, []int{1}, 6, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); (r == nil) != tc.ok {
					t.Errorf("checkSpan(%v, %v, %d): panic %v, want ok %v", tc.shape, tc.strides, tc.n, r, tc.ok)
				}
			}()
			checkSpan(tc.name, tc.shape, tc.strides, tc.n)
		})
	}
}
