package pipelines

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/detflow/detflow/storage"
)

// fileCache remembers each external file's SHA-256 with the stat fields
// that change when its content does (size, mtime in ns and inode locally;
// size and generation on GCS), so an unchanged tree costs one stat per file
// and no reads. DVC's state database is the model.
//
// Saved as one TSV file in the work folder's .cache, replaced atomically;
// two runs saving at once lose only entries, which costs a rehash.
type fileCache struct {
	path    string // "" keeps the cache in memory only
	bypass  bool   // --verify: rehash every file, refresh the entries
	mu      sync.Mutex
	entries map[string]cacheEntry
	dirty   bool
}

type cacheEntry struct {
	size, mtimeNs int64
	inode         uint64
	generation    int64
	sha256        string
}

const fileCacheHeader = "detflow file cache v1"

// racyWindow: a file modified this recently may be modified again within
// the same mtime tick after we hash it, so its entry is not kept (git's
// "racily clean" rule).
const racyWindow = 2 * time.Second

// cacheDir is where the caches of runs in runDir's work folder live: beside
// the runs locally; the user's cache folder for gs:// work folders.
func cacheDir(runDir string) string {
	if !storage.IsGCS(runDir) {
		return filepath.Join(filepath.Dir(filepath.Clean(runDir)), ".cache")
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "detflow")
}

// openFileCache reads the cache in dir; a missing or unreadable cache is an
// empty one (it only saves time).
func openFileCache(dir string, bypass bool) *fileCache {
	c := &fileCache{bypass: bypass, entries: map[string]cacheEntry{}}
	if dir == "" {
		return c
	}
	c.path = filepath.Join(dir, "files.tsv")
	b, err := os.ReadFile(c.path)
	if err != nil || !bytes.HasPrefix(b, []byte(fileCacheHeader+"\n")) {
		return c
	}
	sc := bufio.NewScanner(bytes.NewReader(b[len(fileCacheHeader)+1:]))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if p, e, ok := parseCacheLine(sc.Text()); ok {
			c.entries[p] = e
		}
	}
	return c
}

func parseCacheLine(line string) (string, cacheEntry, bool) {
	f := strings.Split(line, "\t")
	if len(f) != 6 {
		return "", cacheEntry{}, false
	}
	p, err := strconv.Unquote(f[0])
	var e cacheEntry
	var errs [4]error
	e.size, errs[0] = strconv.ParseInt(f[1], 10, 64)
	e.mtimeNs, errs[1] = strconv.ParseInt(f[2], 10, 64)
	e.inode, errs[2] = strconv.ParseUint(f[3], 10, 64)
	e.generation, errs[3] = strconv.ParseInt(f[4], 10, 64)
	e.sha256 = f[5]
	ok := err == nil && len(e.sha256) == 64
	for _, err := range errs {
		ok = ok && err == nil
	}
	return p, e, ok
}

// stamp is what a file's entry must match to be trusted.
func stamp(info storage.Info) cacheEntry {
	e := cacheEntry{size: info.Size, inode: info.Inode, generation: info.Generation}
	if !storage.IsGCS(info.Path) {
		e.mtimeNs = info.ModTime.UnixNano()
	}
	return e
}

// lookup returns the cached SHA-256 of the file info describes, or "".
func (c *fileCache) lookup(info storage.Info) string {
	if c.bypass {
		return ""
	}
	c.mu.Lock()
	e, ok := c.entries[info.Path]
	c.mu.Unlock()
	want := stamp(info)
	want.sha256 = e.sha256
	if !ok || e != want {
		return ""
	}
	return e.sha256
}

// store records the SHA-256 of the file info describes, unless it may still
// be changing under the same stamp.
func (c *fileCache) store(info storage.Info, sha string) {
	if !storage.IsGCS(info.Path) && time.Since(info.ModTime) < racyWindow {
		return
	}
	if storage.IsGCS(info.Path) && info.Generation == 0 {
		return // an emulator without generations: nothing to trust
	}
	e := stamp(info)
	e.sha256 = sha
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[info.Path] != e {
		c.entries[info.Path], c.dirty = e, true
	}
}

// digest returns the SHA-256 of the file info describes, from the cache
// when its stamp matches, else by reading it.
func (c *fileCache) digest(ctx context.Context, fsys *storage.FS, info storage.Info) (string, error) {
	if sha := c.lookup(info); sha != "" {
		return sha, nil
	}
	d, err := fsys.DigestFile(ctx, info.Path)
	if err != nil {
		return "", err
	}
	c.store(info, d.SHA256)
	return d.SHA256, nil
}

// save writes the cache if it changed: to a temporary file, then renamed.
func (c *fileCache) save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.path == "" || !c.dirty {
		return nil
	}
	var b bytes.Buffer
	b.WriteString(fileCacheHeader + "\n")
	for p, e := range c.entries {
		fmt.Fprintf(&b, "%s\t%d\t%d\t%d\t%d\t%s\n", strconv.Quote(p), e.size, e.mtimeNs, e.inode, e.generation, e.sha256)
	}
	if err := writeFileAtomic(c.path, b.Bytes()); err != nil {
		return fmt.Errorf("save file cache: %w", err)
	}
	c.dirty = false
	return nil
}

// writeFileAtomic writes data to p through a temporary file in p's folder.
func writeFileAtomic(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), filepath.Base(p)+".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr != nil || cerr != nil {
		os.Remove(f.Name())
		if werr != nil {
			return werr
		}
		return cerr
	}
	if err := os.Rename(f.Name(), p); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
