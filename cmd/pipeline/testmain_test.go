package main

import (
	"os"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func TestMain(m *testing.M) {
	beam.Init() // as main does before any pipeline is built
	os.Exit(m.Run())
}
