//go:build !cgo

package query

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestRunNeedsCGO(t *testing.T) {
	_, err := Run(context.Background(), nil, t.TempDir(), "select 1")
	if !errors.Is(err, ErrNeedsCGO) || !strings.Contains(err.Error(), "make build-query") {
		t.Errorf("Run without cgo: %v, want ErrNeedsCGO", err)
	}
}
