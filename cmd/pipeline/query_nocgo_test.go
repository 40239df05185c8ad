//go:build !cgo

package main

import (
	"os"
	"regexp"
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

// The message sends users to a make target: it must exist.
func TestQueryMessageNamesAMakeTarget(t *testing.T) {
	b, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^build-query:`).Match(b) {
		t.Error("Makefile has no build-query target, which pipeline query's message names")
	}
}
