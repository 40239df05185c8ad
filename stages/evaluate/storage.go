package evaluate

import (
	"context"
	"os"
	"strings"

	"github.com/detflow/detflow/storage"
)

// emulatorEndpoint turns the driver's STORAGE_EMULATOR_HOST (host:port or
// a URL), when set, into the JSON API endpoint workers open storage with:
// GCS emulators answer only the JSON API (the client's default XML reads
// miss), and workers in other processes may not share the driver's
// environment. "" when unset: workers use Application Default Credentials.
func emulatorEndpoint() string {
	h := os.Getenv("STORAGE_EMULATOR_HOST")
	if h == "" {
		return ""
	}
	if !strings.Contains(h, "://") {
		h = "http://" + h
	}
	return strings.TrimSuffix(h, "/") + "/storage/v1/"
}

// workerStorage opens a worker's storage: local paths, and gs:// through
// endpoint when set.
func workerStorage(ctx context.Context, endpoint string) (*storage.FS, error) {
	return storage.New(ctx, storage.Options{Endpoint: endpoint})
}
