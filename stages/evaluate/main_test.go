package evaluate

import (
	"flag"
	"os"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func TestMain(m *testing.M) {
	role := os.Getenv(roleEnv)
	if role == roleProcessWorker {
		// Started by the runner with flags of its own (--id,
		// --provision_endpoint) that the test flags do not know.
		beam.Init()
		os.Exit(serveProcessWorker(os.Args[1:]))
	}
	// Beam's flags (--runner, --endpoint ...) are parsed before Init.
	flag.Parse()
	beam.Init()
	if role != "" {
		os.Exit(serveRole(role))
	}
	code := m.Run()
	removeFixture()
	os.Exit(code)
}
