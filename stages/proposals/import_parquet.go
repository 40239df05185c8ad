package proposals

import (
	"bytes"
	"context"

	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// importParquet reads one file of detflow's proposals table.
func importParquet(data []byte) (*fileProposals, error) {
	rows, err := schemas.Decode[schemas.ImageProposals](bytes.NewReader(data), int64(len(data)), schemas.Proposals)
	if err != nil {
		return nil, err
	}
	fp := &fileProposals{layout: FormatParquet}
	for _, r := range rows {
		if err := fp.addRow(r); err != nil {
			return nil, err
		}
	}
	return fp, nil
}

// importParquetDir reads a folder of proposals part files.
func importParquetDir(ctx context.Context, fsys *storage.FS, dir string) (*fileProposals, error) {
	fp := &fileProposals{path: dir, layout: FormatParquet}
	if err := schemas.ForEachProposal(ctx, fsys, dir, fp.addRow); err != nil {
		return nil, err
	}
	return fp, nil
}

func (fp *fileProposals) addRow(r schemas.ImageProposals) error {
	if err := r.Check(); err != nil {
		return err
	}
	fp.ids = append(fp.ids, r.ImageID)
	fp.entries = append(fp.entries, entry{boxes: r.Boxes, scores: r.Scores})
	return nil
}
