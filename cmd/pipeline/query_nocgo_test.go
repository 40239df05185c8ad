//go:build !cgo

package main

import (
	"strings"
	"testing"
)

func TestQueryNeedsCGO(t *testing.T) {
	work := fixtureWorkdir(t)
	code, _, errOut := pipeline(t, "query", "--workdir", work, "select 1")
	if code != 1 || !strings.Contains(errOut, "needs a build with cgo") || !strings.Contains(errOut, "make build-query") {
		t.Errorf("query without cgo: code %d, stderr %q", code, errOut)
	}
}
