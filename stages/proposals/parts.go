package proposals

import (
	"context"
	"fmt"
	"slices"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// ImagesPerPart is how many images one part file (and one Beam element of
// the selective search pipeline) holds.
const ImagesPerPart = 64

// imageRef names one image; it is what travels between Beam workers.
type imageRef struct {
	ID       int64
	FileName string
	Width    int
	Height   int
}

// partSpec is one element of the selective search pipeline: the part file
// to write and the images it covers, never their pixels.
type partSpec struct {
	Split     string
	Index     int
	ImageRoot string
	OutDir    string // the split's output folder
	TopK      int
	Images    []imageRef
}

// planParts splits a split's images, in ascending id order, into parts.
func planParts(sp split, outDir string, topK int) []partSpec {
	imgs := slices.Clone(sp.GT.Images)
	slices.SortFunc(imgs, func(a, b coco.Image) int { return int(min(max(a.ID-b.ID, -1), 1)) })
	var parts []partSpec
	for i := 0; i < len(imgs); i += ImagesPerPart {
		p := partSpec{Split: sp.Name, Index: len(parts), ImageRoot: sp.ImageRoot, OutDir: outDir, TopK: topK}
		for _, im := range imgs[i:min(i+ImagesPerPart, len(imgs))] {
			p.Images = append(p.Images, imageRef{ID: im.ID, FileName: im.FileName, Width: im.Width, Height: im.Height})
		}
		parts = append(parts, p)
	}
	return parts
}

// writePart writes rows as part file index of dir, atomically.
func writePart(ctx context.Context, fsys *storage.FS, dir string, index int, rows []schemas.ImageProposals) error {
	p := storage.Join(dir, schemas.ProposalPartName(index))
	if err := schemas.Write(ctx, fsys, p, schemas.Proposals, rows); err != nil {
		return fmt.Errorf("write proposals part: %w", err)
	}
	return nil
}
