package stages

import (
	"context"
	"fmt"

	"github.com/detflow/detflow/hub"
)

// LocalWeights returns a local file for the weights reference ref, the
// value of config key key: torchvision:// names and URLs are downloaded
// into torch.hub's cache (package hub), a gs:// object is copied to a
// temporary file that cleanup removes, a local path is returned as it is.
func LocalWeights(ctx context.Context, env *Env, key, ref string) (local string, cleanup func() error, err error) {
	local, err = hub.Resolve(ctx, ref, hub.Options{Progress: env.Progress})
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", key, err)
	}
	local, cleanup, err = env.FS.Localize(ctx, local)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", key, err)
	}
	if local != ref {
		env.Log.Info("weights", "key", key, "ref", ref, "file", local)
	}
	return local, cleanup, nil
}
