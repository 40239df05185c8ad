package pipelines

import (
	"os"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func TestMain(m *testing.M) {
	beam.Init() // the records stage is a Beam pipeline
	os.Exit(m.Run())
}
