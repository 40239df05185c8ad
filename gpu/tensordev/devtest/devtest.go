// Package devtest opens a GPU for tests outside package gpu, skipping with
// the reason on machines without one (CI, laptops) so the skip is visible;
// scripts/gpu-check.sh runs those tests on a lent GPU.
package devtest

import (
	"testing"

	"github.com/detflow/detflow/gpu/tensordev"
)

// Open opens cuda:<ordinal> for t, closing it when t ends, or skips t.
func Open(t testing.TB, ordinal int) *tensordev.Device {
	t.Helper()
	d, err := tensordev.Open(ordinal)
	if err != nil {
		t.Skipf("no GPU: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close cuda:%d: %v", ordinal, err)
		}
	})
	return d
}
