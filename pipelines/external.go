package pipelines

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/rundir"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/storage"
)

// externals digests the files and folders outside the run that st reads
// under cfg, by the config key naming them; nil for stages that read none.
func externals(ctx context.Context, fsys *storage.FS, cache *fileCache, st stages.Stage, cfg *configs.Config) (map[string]rundir.External, error) {
	er, ok := st.(stages.ExternalReader)
	if !ok {
		return nil, nil
	}
	paths, err := er.External(ctx, fsys, cfg)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, nil
	}
	out := make(map[string]rundir.External, len(paths))
	for key, p := range paths {
		e, err := digestExternal(ctx, fsys, cache, p)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", key, p, err)
		}
		out[key] = e
	}
	return out, nil
}

// digestExternal digests a file, or a folder as the list of its files'
// (relative path, size, SHA-256). A missing path has an empty SHA256: the
// stage will report it when it runs.
func digestExternal(ctx context.Context, fsys *storage.FS, cache *fileCache, p string) (rundir.External, error) {
	if !storage.IsGCS(p) {
		// Absolute: the cache is shared by runs started from any folder, and
		// a relative path names other files from elsewhere.
		abs, err := filepath.Abs(p)
		if err != nil {
			return rundir.External{}, err
		}
		p = abs
	}
	info, err := fsys.Stat(ctx, p)
	if errors.Is(err, fs.ErrNotExist) {
		return rundir.External{Path: p}, nil
	}
	if err != nil {
		return rundir.External{}, err
	}
	if !info.IsDir {
		sha, err := cache.digest(ctx, fsys, info)
		if err != nil {
			return rundir.External{}, err
		}
		return rundir.External{Path: p, SHA256: sha, Size: info.Size, Files: 1}, nil
	}
	tree, err := digestTree(ctx, fsys, cache, p)
	if err != nil {
		return rundir.External{}, err
	}
	e := rundir.External{Path: p, Dir: true, Files: len(tree), SHA256: tree.digest()}
	for _, f := range tree {
		e.Size += f.size
	}
	saveTree(cache, e.SHA256, tree) // best effort: only change reports need it
	return e, nil
}

// treeFile is one file of an external folder.
type treeFile struct {
	rel    string
	size   int64
	sha256 string
}

type tree []treeFile

func (t tree) digest() string {
	h := sha256.New()
	for _, f := range t {
		fmt.Fprintf(h, "%s\x00%d\x00%s\n", f.rel, f.size, f.sha256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// digestTree lists dir once (one stat per file) and digests each file
// through the cache; only files whose stamp changed are read, in parallel.
func digestTree(ctx context.Context, fsys *storage.FS, cache *fileCache, dir string) (tree, error) {
	files, err := fsys.ListRecursive(ctx, dir)
	if err != nil {
		return nil, err
	}
	prefix := strings.TrimSuffix(dir, "/") + "/"
	t := make(tree, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, f := range files {
		t[i] = treeFile{rel: filepath.ToSlash(strings.TrimPrefix(f.Path, prefix)), size: f.Size, sha256: cache.lookup(f)}
		if t[i].sha256 != "" {
			continue
		}
		g.Go(func() error {
			sha, err := cache.digest(gctx, fsys, f)
			t[i].sha256 = sha
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sort.Slice(t, func(i, j int) bool { return t[i].rel < t[j].rel })
	return t, nil
}

// Trees are kept by digest beside the file cache, so that a plan can say
// which files of a folder changed since the digest a manifest recorded.
func treePath(cache *fileCache, digest string) string {
	if cache.path == "" || digest == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(cache.path), "trees", digest+".tsv")
}

func saveTree(cache *fileCache, digest string, t tree) {
	p := treePath(cache, digest)
	if p == "" {
		return
	}
	if _, err := os.Stat(p); err == nil {
		return
	}
	var b strings.Builder
	for _, f := range t {
		fmt.Fprintf(&b, "%s\t%d\t%s\n", strconv.Quote(f.rel), f.size, f.sha256)
	}
	_ = writeFileAtomic(p, []byte(b.String())) // a lost tree only makes a reason vaguer
	pruneTrees(filepath.Dir(p))
}

// keptTrees bounds the trees kept (a 118k-image folder's is ~10 MB): the
// newest, which the manifests of recent runs name.
const keptTrees = 16

func pruneTrees(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) <= keptTrees {
		return
	}
	type aged struct {
		name string
		mod  int64
	}
	var trees []aged
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			trees = append(trees, aged{e.Name(), info.ModTime().UnixNano()})
		}
	}
	sort.Slice(trees, func(i, j int) bool { return trees[i].mod > trees[j].mod })
	for _, t := range trees[min(keptTrees, len(trees)):] {
		os.Remove(filepath.Join(dir, t.name))
	}
}

// loadTree returns the files of the folder digest recorded, or nil.
func loadTree(cache *fileCache, digest string) map[string]string {
	p := treePath(cache, digest)
	if p == "" {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 {
			return nil
		}
		rel, err := strconv.Unquote(fields[0])
		if err != nil {
			return nil
		}
		out[rel] = fields[1] + "/" + fields[2]
	}
	if sc.Err() != nil {
		return nil
	}
	return out
}

// externalChanges says, per config key, how the external inputs differ
// from those a manifest recorded, e.g. "dataset.val_ann: instances_val.json
// changed" or "dataset.train_images: 3 files changed in train2017/".
func externalChanges(cache *fileCache, m *rundir.Manifest, cur map[string]rundir.External) []string {
	if len(cur) == 0 {
		return nil
	}
	if m.External == nil {
		return []string{"external inputs not recorded (published by an older detflow)"}
	}
	keys := make([]string, 0, len(cur))
	for k := range cur {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		old, ok := m.External[k]
		c := cur[k]
		switch {
		case c.SHA256 == "":
			out = append(out, fmt.Sprintf("%s: %s is missing", k, c.Path))
		case !ok:
			out = append(out, fmt.Sprintf("%s: %s not recorded before", k, c.Path))
		case old.SHA256 != c.SHA256:
			out = append(out, fmt.Sprintf("%s: %s", k, describeChange(cache, k, old, c)))
		}
	}
	return out
}

func describeChange(cache *fileCache, key string, old, cur rundir.External) string {
	name := storage.Base(cur.Path)
	if old.Path != cur.Path {
		return fmt.Sprintf("now %s (was %s)", cur.Path, old.Path)
	}
	if !cur.Dir || !old.Dir {
		return name + " changed"
	}
	before, now := loadTree(cache, old.SHA256), loadTree(cache, cur.SHA256)
	if before == nil || now == nil {
		return fmt.Sprintf("%s/ changed (%d files, %d before)", name, cur.Files, old.Files)
	}
	var changed, added, removed int
	for rel, v := range now {
		if w, ok := before[rel]; !ok {
			added++
		} else if w != v {
			changed++
		}
	}
	for rel := range before {
		if _, ok := now[rel]; !ok {
			removed++
		}
	}
	one, many := "file", "files"
	if strings.HasSuffix(key, "_images") {
		one, many = "image", "images"
	}
	var parts []string
	for _, c := range []struct {
		n    int
		verb string
	}{{changed, "changed"}, {added, "added"}, {removed, "removed"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s %s", c.n, plural(c.n, one, many), c.verb))
		}
	}
	return strings.Join(parts, ", ") + " in " + name + "/"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// externalDigests is the key -> SHA-256 map a fingerprint folds in.
func externalDigests(ext map[string]rundir.External) map[string]string {
	if len(ext) == 0 {
		return nil
	}
	out := make(map[string]string, len(ext))
	for k, e := range ext {
		out[k] = e.SHA256
	}
	return out
}
