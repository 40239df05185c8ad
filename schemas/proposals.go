package schemas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/detflow/detflow/storage"
)

// Proposals is the proposals table: one row per image with its ranked
// object proposals. The proposals stage writes it as part files
// "<split>/part-NNNNN.parquet" below its folder.
var Proposals = Table{Name: "proposals", Version: 1}

// ImageProposals is one row of the proposals table. Boxes are flat
// [x1, y1, x2, y2, x1, y1, ...] in pixels of the original image (no +1:
// x2-x1 is the width), clipped to the image, sorted by descending score.
type ImageProposals struct {
	ImageID  int64     `parquet:"image_id"`
	FileName string    `parquet:"file_name"`
	Split    string    `parquet:"split"`
	Width    int32     `parquet:"width"`
	Height   int32     `parquet:"height"`
	Boxes    []float32 `parquet:"boxes,list"`
	Scores   []float32 `parquet:"scores,list"`
}

// Len returns the number of proposals.
func (p *ImageProposals) Len() int { return len(p.Scores) }

// Box returns proposal i as [x1, y1, x2, y2].
func (p *ImageProposals) Box(i int) [4]float32 {
	return [4]float32(p.Boxes[4*i : 4*i+4])
}

// Check reports a row whose boxes and scores do not pair up.
func (p *ImageProposals) Check() error {
	if len(p.Boxes) != 4*len(p.Scores) {
		return fmt.Errorf("image %d: %d box coordinates for %d scores, want 4 per score", p.ImageID, len(p.Boxes), len(p.Scores))
	}
	return nil
}

// ProposalPartName is the name of part file i of a split folder.
func ProposalPartName(i int) string { return fmt.Sprintf("part-%05d.parquet", i) }

// ProposalParts lists the Parquet part files of a proposals split folder
// (e.g. runs/r/proposals/val), sorted by name.
func ProposalParts(ctx context.Context, fsys *storage.FS, dir string) ([]string, error) {
	infos, err := fsys.List(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("list proposals %s: %w", dir, err)
	}
	var parts []string
	for _, in := range infos {
		if !in.IsDir && strings.HasSuffix(in.Name, ".parquet") {
			parts = append(parts, storage.Join(dir, in.Name))
		}
	}
	return parts, nil
}

// ForEachProposal streams every row of a proposals split folder, part by
// part, holding one part in memory at a time.
func ForEachProposal(ctx context.Context, fsys *storage.FS, dir string, fn func(ImageProposals) error) error {
	parts, err := ProposalParts(ctx, fsys, dir)
	if err != nil {
		return err
	}
	for _, p := range parts {
		rows, err := Read[ImageProposals](ctx, fsys, p, Proposals)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := r.Check(); err != nil {
				return fmt.Errorf("read proposals %s: %w", p, err)
			}
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// ProposalSet serves the rows of a proposals split folder by image id
// without loading them all: opening reads only the image_id column, and
// Get reads one row. A few part files are kept open; Close releases them.
// It is not safe for concurrent use.
type ProposalSet struct {
	fsys  *storage.FS
	parts []string
	where map[int64]rowRef
	open  []*openPart // most recently used last
}

type rowRef struct {
	part int
	row  int64
}

type openPart struct {
	part int
	ra   storage.ReaderAt
	r    *parquet.GenericReader[ImageProposals]
}

// maxOpenParts bounds the part files a ProposalSet keeps open.
const maxOpenParts = 4

// OpenProposals indexes a proposals split folder. An image listed twice is
// an error naming both part files.
func OpenProposals(ctx context.Context, fsys *storage.FS, dir string) (*ProposalSet, error) {
	parts, err := ProposalParts(ctx, fsys, dir)
	if err != nil {
		return nil, err
	}
	s := &ProposalSet{fsys: fsys, parts: parts, where: map[int64]rowRef{}}
	for i, p := range parts {
		ids, err := readImageIDs(ctx, fsys, p)
		if err != nil {
			return nil, err
		}
		for row, id := range ids {
			if prev, ok := s.where[id]; ok {
				return nil, fmt.Errorf("open proposals %s: image %d is in %s and %s", dir, id, parts[prev.part], p)
			}
			s.where[id] = rowRef{part: i, row: int64(row)}
		}
	}
	return s, nil
}

// readImageIDs reads the image_id column of one part file.
func readImageIDs(ctx context.Context, fsys *storage.FS, path string) ([]int64, error) {
	ra, err := fsys.OpenReaderAt(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("read proposals: %w", err)
	}
	defer ra.Close()
	f, err := openTable(ra, Proposals)
	if err != nil {
		return nil, fmt.Errorf("read proposals %s: %w", path, err)
	}
	col, ok := f.Schema().Lookup("image_id")
	if !ok {
		return nil, fmt.Errorf("read proposals %s: no image_id column", path)
	}
	ids := make([]int64, 0, f.NumRows())
	for _, rg := range f.RowGroups() {
		pages := rg.ColumnChunks()[col.ColumnIndex].Pages()
		for {
			pg, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				pages.Close()
				return nil, fmt.Errorf("read proposals %s: image_id: %w", path, err)
			}
			vals := make([]parquet.Value, pg.NumValues())
			n, err := pg.Values().ReadValues(vals)
			if err != nil && !errors.Is(err, io.EOF) {
				pages.Close()
				return nil, fmt.Errorf("read proposals %s: image_id: %w", path, err)
			}
			for _, v := range vals[:n] {
				ids = append(ids, v.Int64())
			}
		}
		pages.Close()
	}
	return ids, nil
}

// openTable opens a Parquet file and checks its table name and version.
func openTable(ra storage.ReaderAt, t Table) (*parquet.File, error) {
	f, err := parquet.OpenFile(ra, ra.Size())
	if err != nil {
		return nil, err
	}
	name, _ := f.Lookup(TableKey)
	ver, _ := f.Lookup(VersionKey)
	if name != t.Name {
		return nil, fmt.Errorf("file holds table %q, want %q", name, t.Name)
	}
	if ver != fmt.Sprint(t.Version) {
		return nil, fmt.Errorf("schema version %q, this detflow reads version %d", ver, t.Version)
	}
	return f, nil
}

// ImageIDs returns the ids of every image in the set, ascending.
func (s *ProposalSet) ImageIDs() []int64 {
	ids := make([]int64, 0, len(s.where))
	for id := range s.where {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Len returns the number of images in the set.
func (s *ProposalSet) Len() int { return len(s.where) }

// Get returns the proposals of one image; ok is false when the set has none.
func (s *ProposalSet) Get(ctx context.Context, imageID int64) (row ImageProposals, ok bool, err error) {
	ref, ok := s.where[imageID]
	if !ok {
		return ImageProposals{}, false, nil
	}
	op, err := s.openPart(ctx, ref.part)
	if err != nil {
		return ImageProposals{}, false, err
	}
	path := s.parts[ref.part]
	if err := op.r.SeekToRow(ref.row); err != nil {
		return ImageProposals{}, false, fmt.Errorf("read proposals %s: seek to row %d: %w", path, ref.row, err)
	}
	rows := make([]ImageProposals, 1)
	n, err := op.r.Read(rows)
	if n != 1 {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return ImageProposals{}, false, fmt.Errorf("read proposals %s: row %d: %w", path, ref.row, err)
	}
	if rows[0].ImageID != imageID {
		return ImageProposals{}, false, fmt.Errorf("read proposals %s: row %d holds image %d, want %d", path, ref.row, rows[0].ImageID, imageID)
	}
	if err := rows[0].Check(); err != nil {
		return ImageProposals{}, false, fmt.Errorf("read proposals %s: %w", path, err)
	}
	return rows[0], true, nil
}

func (s *ProposalSet) openPart(ctx context.Context, part int) (*openPart, error) {
	for i, op := range s.open {
		if op.part == part {
			s.open = append(append(s.open[:i:i], s.open[i+1:]...), op)
			return op, nil
		}
	}
	path := s.parts[part]
	ra, err := s.fsys.OpenReaderAt(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("read proposals: %w", err)
	}
	f, err := openTable(ra, Proposals)
	if err != nil {
		ra.Close()
		return nil, fmt.Errorf("read proposals %s: %w", path, err)
	}
	op := &openPart{part: part, ra: ra, r: parquet.NewGenericReader[ImageProposals](f)}
	if len(s.open) == maxOpenParts {
		if err := s.open[0].close(); err != nil {
			return nil, err
		}
		s.open = s.open[1:]
	}
	s.open = append(s.open, op)
	return op, nil
}

func (op *openPart) close() error {
	return errors.Join(op.r.Close(), op.ra.Close())
}

// Close releases the open part files.
func (s *ProposalSet) Close() error {
	var errs []error
	for _, op := range s.open {
		errs = append(errs, op.close())
	}
	s.open = nil
	return errors.Join(errs...)
}
