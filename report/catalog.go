package report

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/detflow/detflow/rundir"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// ErrNoRuns is returned by Scan for a work directory with no run folders,
// including one that does not exist.
var ErrNoRuns = errors.New("no runs")

// Catalog is what Scan found in a work directory.
type Catalog struct {
	Workdir string
	Runs    []Run       // sorted by name
	Files   []TableFile // sorted by run, stage, path
}

// Run is one run folder: its run.json and its published stages.
type Run struct {
	Name   string // the folder name
	Dir    string
	Info   rundir.Info
	Stages []Stage // sorted by name
}

// Stage is one published stage folder of a run.
type Stage struct {
	Name     string
	Manifest rundir.Manifest
}

// TableFile is one Parquet output of a published stage.
type TableFile struct {
	Run     string
	Stage   string
	Path    string   // full path, as storage takes it
	Table   string   // detflow.table metadata, or the file name's stem when absent
	Version string   // detflow.schema_version metadata; "" when absent
	Columns []string // top-level column names
	Size    int64
}

// Scan reads every run folder of workdir (a local path or gs://bucket/dir).
// A folder without run.json is not a run and is skipped; a run.json or a
// manifest that does not parse is an error naming the file.
func Scan(ctx context.Context, fsys *storage.FS, workdir string) (*Catalog, error) {
	entries, err := fsys.List(ctx, workdir)
	if err != nil {
		return nil, fmt.Errorf("list runs in %s: %w", workdir, err)
	}
	c := &Catalog{Workdir: workdir}
	for _, e := range entries {
		if !e.IsDir {
			continue
		}
		run, files, err := scanRun(ctx, fsys, storage.Join(workdir, e.Name), e.Name)
		if err != nil {
			return nil, err
		}
		if run == nil {
			continue
		}
		c.Runs = append(c.Runs, *run)
		c.Files = append(c.Files, files...)
	}
	if len(c.Runs) == 0 {
		return nil, fmt.Errorf("%w in %q: a run folder holds run.json; start one with: pipeline run fast_rcnn_with_proposals --workdir %s", ErrNoRuns, workdir, workdir)
	}
	sort.Slice(c.Runs, func(i, j int) bool { return c.Runs[i].Name < c.Runs[j].Name })
	sort.SliceStable(c.Files, func(i, j int) bool {
		a, b := c.Files[i], c.Files[j]
		if a.Run != b.Run {
			return a.Run < b.Run
		}
		if a.Stage != b.Stage {
			return a.Stage < b.Stage
		}
		return a.Path < b.Path
	})
	return c, nil
}

// scanRun reads one run folder; (nil, nil, nil) when dir has no run.json.
func scanRun(ctx context.Context, fsys *storage.FS, dir, name string) (*Run, []TableFile, error) {
	info, err := rundir.ReadInfo(ctx, fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("run %s: %w", name, err)
	}
	run := &Run{Name: name, Dir: dir, Info: *info}
	entries, err := fsys.List(ctx, dir)
	if err != nil {
		return nil, nil, fmt.Errorf("list stages of run %s: %w", name, err)
	}
	var files []TableFile
	for _, e := range entries {
		if !e.IsDir || strings.HasPrefix(e.Name, ".") {
			continue // .tmp and .trash hold unpublished stage outputs
		}
		st, err := readStage(ctx, fsys, storage.Join(dir, e.Name), e.Name)
		if err != nil {
			return nil, nil, fmt.Errorf("run %s: %w", name, err)
		}
		if st == nil {
			continue
		}
		run.Stages = append(run.Stages, *st)
		fs, err := stageTables(ctx, fsys, storage.Join(dir, e.Name), name, st)
		if err != nil {
			return nil, nil, fmt.Errorf("run %s: %w", name, err)
		}
		files = append(files, fs...)
	}
	return run, files, nil
}

// readStage reads a stage folder's manifest; nil when it has none (not
// published, or not a stage folder such as logs/).
func readStage(ctx context.Context, fsys *storage.FS, dir, name string) (*Stage, error) {
	m, err := rundir.ReadManifest(ctx, fsys, dir)
	if err != nil || m == nil {
		return nil, err
	}
	return &Stage{Name: name, Manifest: *m}, nil
}

// stageTables describes every Parquet file the stage's manifest lists.
func stageTables(ctx context.Context, fsys *storage.FS, dir, run string, st *Stage) ([]TableFile, error) {
	var files []TableFile
	for _, o := range st.Manifest.Outputs {
		if !strings.HasSuffix(o.Path, ".parquet") {
			continue
		}
		tf := TableFile{Run: run, Stage: st.Name, Path: storage.Join(dir, o.Path), Size: o.Size}
		if err := readFooter(ctx, fsys, &tf); err != nil {
			return nil, err
		}
		if tf.Table == "" {
			tf.Table = strings.TrimSuffix(path.Base(o.Path), ".parquet")
		}
		files = append(files, tf)
	}
	return files, nil
}

// readFooter fills tf's table name, version and columns from the file's
// footer, which is all it reads.
func readFooter(ctx context.Context, fsys *storage.FS, tf *TableFile) (err error) {
	ra, err := fsys.OpenReaderAt(ctx, tf.Path)
	if err != nil {
		return fmt.Errorf("open table: %w", err)
	}
	defer ra.Close()
	defer func() {
		if r := recover(); r != nil { // parquet-go panics on some corrupt footers
			err = fmt.Errorf("read parquet footer of %s: corrupt file: %v", tf.Path, r)
		}
	}()
	if err := checkFooterLength(ra, ra.Size()); err != nil {
		return fmt.Errorf("read parquet footer of %s: %w", tf.Path, err)
	}
	f, err := parquet.OpenFile(ra, ra.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return fmt.Errorf("read parquet footer of %s: %w", tf.Path, err)
	}
	tf.Table, _ = f.Lookup(schemas.TableKey)
	tf.Version, _ = f.Lookup(schemas.VersionKey)
	for _, fld := range f.Schema().Fields() {
		tf.Columns = append(tf.Columns, fld.Name())
	}
	return nil
}

// Run returns the run named name.
func (c *Catalog) Run(name string) (*Run, error) {
	for i := range c.Runs {
		if c.Runs[i].Name == name {
			return &c.Runs[i], nil
		}
	}
	return nil, fmt.Errorf("no run %q in %s (runs: %s)", name, c.Workdir, strings.Join(c.RunNames(), ", "))
}

// RunNames lists the runs' names.
func (c *Catalog) RunNames() []string {
	names := make([]string, len(c.Runs))
	for i, r := range c.Runs {
		names[i] = r.Name
	}
	return names
}

// Latest returns the most recently updated run.
func (c *Catalog) Latest() *Run {
	best := &c.Runs[0]
	for i := range c.Runs {
		if c.Runs[i].Info.Updated.After(best.Info.Updated) {
			best = &c.Runs[i]
		}
	}
	return best
}

// TableFiles returns the files of table in run ("" for every run).
func (c *Catalog) TableFiles(table, run string) []TableFile {
	var out []TableFile
	for _, f := range c.Files {
		if f.Table == table && (run == "" || f.Run == run) {
			out = append(out, f)
		}
	}
	return out
}

// CheckVersion reports a file whose schema version is not t's, naming the
// file and both versions, so a table written by an older detflow is refused
// before anything reads it.
func (f TableFile) CheckVersion(t schemas.Table) error {
	if f.Version != strconv.Itoa(t.Version) {
		v := f.Version
		if v == "" {
			v = "none"
		}
		return fmt.Errorf("%s table %s has schema version %s, this detflow reads version %d: rerun stage %q of run %q to rewrite it",
			t.Name, f.Path, v, t.Version, f.Stage, f.Run)
	}
	return nil
}

// checkFooterLength refuses a file whose footer length field points outside
// it, before the Parquet reader allocates that many bytes (up to 4 GiB for a
// corrupt file). A file is "PAR1", data, the footer, its 4-byte length and
// "PAR1" again.
func checkFooterLength(r io.ReaderAt, size int64) error {
	if size < 12 {
		return fmt.Errorf("%d bytes is too short for a parquet file", size)
	}
	var tail [8]byte
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return err
	}
	if n := int64(binary.LittleEndian.Uint32(tail[:4])); n > size-12 {
		return fmt.Errorf("footer length %d does not fit in a file of %d bytes: corrupt file", n, size)
	}
	return nil
}
