// Package hub resolves references to pretrained weights the way MMDetection
// configs write them: "torchvision://resnet50" names torchvision's ImageNet
// weights, an http(s) URL names any file, and both are downloaded once into
// torch.hub's cache folder, shared with PyTorch, so weights PyTorch already
// fetched are not fetched again. Anything else (a local path, gs://) is
// returned unchanged.
package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/detflow/detflow/progress"
)

// torchvisionURLs are torchvision's ImageNet weights (IMAGENET1K_V1), the
// files mmcv maps torchvision://NAME to, and its COCO detectors.
var torchvisionURLs = map[string]string{
	"resnet18":  "https://download.pytorch.org/models/resnet18-f37072fd.pth",
	"resnet34":  "https://download.pytorch.org/models/resnet34-b627a593.pth",
	"resnet50":  "https://download.pytorch.org/models/resnet50-0676ba61.pth",
	"resnet101": "https://download.pytorch.org/models/resnet101-63fe2227.pth",
	"resnet152": "https://download.pytorch.org/models/resnet152-394f9c45.pth",
	// COCO detectors (COCO_V1), for model.load_from.
	"fasterrcnn_resnet50_fpn": "https://download.pytorch.org/models/fasterrcnn_resnet50_fpn_coco-258fb6c6.pth",
	"retinanet_resnet50_fpn":  "https://download.pytorch.org/models/retinanet_resnet50_fpn_coco-eeacb38b.pth",
}

// Options configure Resolve; the zero value uses torch.hub's cache folder,
// http.DefaultClient and no progress bar.
type Options struct {
	CacheDir string // default: CacheDir()
	Client   *http.Client
	Progress *progress.Factory
	// Getenv reads TORCH_HOME and XDG_CACHE_HOME; default os.Getenv.
	Getenv func(string) string
}

// Resolve returns a local path for ref, downloading it first when it is a
// torchvision:// name or an http(s) URL not yet in the cache.
func Resolve(ctx context.Context, ref string, opts Options) (string, error) {
	u, err := remoteURL(ref)
	if err != nil || u == nil {
		return ref, err
	}
	dir := opts.CacheDir
	if dir == "" {
		dir = CacheDir(opts.getenv())
	}
	dst := filepath.Join(dir, path.Base(u.Path)) // torch.hub's name: the URL path's last element
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("hub: %w", err)
	}
	if err := download(ctx, u.String(), dst, opts); err != nil {
		return "", fmt.Errorf("hub: download %s (for %q): %w", u, ref, err)
	}
	return dst, nil
}

// remoteURL returns the URL ref stands for, nil for a reference that is
// not remote, or an error for an unknown torchvision name or a bad URL.
func remoteURL(ref string) (*url.URL, error) {
	raw := ref
	switch {
	case strings.HasPrefix(ref, "torchvision://"):
		name := strings.TrimPrefix(ref, "torchvision://")
		u, ok := torchvisionURLs[name]
		if !ok {
			return nil, fmt.Errorf("hub: %q: detflow knows torchvision's %s", ref, strings.Join(torchvisionNames(), ", "))
		}
		raw = u
	case strings.HasPrefix(ref, "https://"), strings.HasPrefix(ref, "http://"):
	default:
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	return u, nil
}

func torchvisionNames() []string {
	var names []string
	for n := range torchvisionURLs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CacheDir is torch.hub's checkpoint cache: $TORCH_HOME/hub/checkpoints,
// TORCH_HOME defaulting to $XDG_CACHE_HOME/torch, then ~/.cache/torch.
func CacheDir(getenv func(string) string) string {
	home := getenv("TORCH_HOME")
	if home == "" {
		cache := getenv("XDG_CACHE_HOME")
		if cache == "" {
			h, err := os.UserHomeDir()
			if err != nil {
				h = os.TempDir()
			}
			cache = filepath.Join(h, ".cache")
		}
		home = filepath.Join(cache, "torch")
	}
	return filepath.Join(home, "hub", "checkpoints")
}

func (o Options) getenv() func(string) string {
	if o.Getenv != nil {
		return o.Getenv
	}
	return os.Getenv
}

// hashRE finds the SHA-256 prefix torch.hub file names carry
// ("resnet50-0676ba61.pth").
var hashRE = regexp.MustCompile(`-([a-f0-9]+)\.`)

// download fetches u into a temporary file beside dst, checks the file
// name's hash prefix, then renames it into place: an interrupted or corrupt
// download never appears under dst's name.
func download(ctx context.Context, u, dst string, opts Options) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	client := opts.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".partial-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	bar := opts.Progress.New("download "+filepath.Base(dst)+" (KiB)", int(max(resp.ContentLength, 0)>>10))
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h, &kibCounter{bar: bar}), resp.Body)
	bar.Done()
	if err = errors.Join(err, tmp.Close()); err != nil {
		return err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if m := hashRE.FindStringSubmatch(filepath.Base(dst)); m != nil && !strings.HasPrefix(sum, m[1]) {
		return fmt.Errorf("SHA-256 %s does not start with %s, the hash in the file name: a corrupt or changed download", sum, m[1])
	}
	return os.Rename(tmp.Name(), dst)
}

// kibCounter shows the KiB written through it on a progress bar.
type kibCounter struct {
	bar *progress.Bar
	n   int
}

func (k *kibCounter) Write(p []byte) (int, error) {
	k.n += len(p)
	k.bar.Set(k.n >> 10)
	return len(p), nil
}
