package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// weightsServer serves body under every path and counts the requests.
func weightsServer(t *testing.T, body []byte) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if strings.Contains(r.URL.Path, "missing") {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestResolveDownloadsOnceAndChecksTheHash(t *testing.T) {
	body := []byte("pretend weights")
	sum := sha256.Sum256(body)
	prefix := hex.EncodeToString(sum[:])[:8]
	srv, hits := weightsServer(t, body)
	cache := t.TempDir()
	opts := Options{CacheDir: cache, Client: srv.Client()}
	ctx := context.Background()
	url := srv.URL + "/models/net-" + prefix + ".pth"
	for range 2 {
		got, err := Resolve(ctx, url, opts)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(got); err != nil || string(b) != string(body) || filepath.Dir(got) != cache {
			t.Fatalf("Resolve = %q (%q, %v), want the download in %s", got, b, err, cache)
		}
	}
	if hits.Load() != 1 {
		t.Errorf("%d requests for two resolutions, want 1 (the second from the cache)", hits.Load())
	}

	_, err := Resolve(ctx, srv.URL+"/models/net-deadbeef.pth", opts)
	if err == nil || !strings.Contains(err.Error(), "does not start with deadbeef") {
		t.Errorf("wrong hash: err = %v", err)
	}
	_, err = Resolve(ctx, srv.URL+"/missing-0000.pth", opts)
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "/missing-0000.pth") {
		t.Errorf("missing file: err = %v", err)
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) != 1 {
		t.Errorf("cache holds %d entries, want only the good download (no partial or corrupt files)", len(entries))
	}
}

func TestResolveLeavesOtherReferences(t *testing.T) {
	for _, ref := range []string{"pretrained/resnet50-0676ba61.pth", "/abs/w.pth", "gs://bucket/w.pth", ""} {
		got, err := Resolve(context.Background(), ref, Options{CacheDir: t.TempDir()})
		if err != nil || got != ref {
			t.Errorf("Resolve(%q) = %q, %v; want it unchanged", ref, got, err)
		}
	}
}

func TestTorchvisionNames(t *testing.T) {
	u, err := remoteURL("torchvision://resnet50")
	if err != nil || u.String() != "https://download.pytorch.org/models/resnet50-0676ba61.pth" {
		t.Errorf("torchvision://resnet50 = %q, %v", u, err)
	}
	u, err = remoteURL("torchvision://fasterrcnn_resnet50_fpn")
	if err != nil || u.String() != "https://download.pytorch.org/models/fasterrcnn_resnet50_fpn_coco-258fb6c6.pth" {
		t.Errorf("torchvision://fasterrcnn_resnet50_fpn = %q, %v", u, err)
	}
	_, err = remoteURL("torchvision://resnet51")
	if err == nil || !strings.Contains(err.Error(), "fasterrcnn_resnet50_fpn, resnet101, resnet152, resnet18, resnet34, resnet50, retinanet_resnet50_fpn") {
		t.Errorf("unknown name: err = %v", err)
	}
}

func TestCacheDir(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"TORCH_HOME": "/th", "XDG_CACHE_HOME": "/xdg"}, "/th/hub/checkpoints"},
		{map[string]string{"XDG_CACHE_HOME": "/xdg"}, "/xdg/torch/hub/checkpoints"},
	} {
		if got := CacheDir(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("CacheDir(%v) = %q, want %q", tc.env, got, tc.want)
		}
	}
	home, err := os.UserHomeDir()
	if err == nil {
		if got := CacheDir(func(string) string { return "" }); got != filepath.Join(home, ".cache/torch/hub/checkpoints") {
			t.Errorf("CacheDir() = %q", got)
		}
	}
}
