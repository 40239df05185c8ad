package records

import (
	"context"
	"fmt"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// proposalSet is one image's proposals: xyxy boxes (4 per box) in original
// image pixels, and their scores.
type proposalSet struct {
	Boxes  []float32
	Scores []float32
}

// loadProposals reads the proposals of one split (the proposals stage's
// <split> folder) for the images of ds. A proposal row for an image the
// data set does not have, or one whose size disagrees, is an error naming it.
func loadProposals(ctx context.Context, fsys *storage.FS, dir string, ds *coco.Dataset) (map[int64]proposalSet, error) {
	out := make(map[int64]proposalSet, len(ds.Images))
	err := schemas.ForEachProposal(ctx, fsys, dir, func(p schemas.ImageProposals) error {
		img, ok := ds.Image(p.ImageID)
		if !ok {
			return fmt.Errorf("records: proposals in %s name image %d, which the data set does not have", dir, p.ImageID)
		}
		if int(p.Width) != img.Width || int(p.Height) != img.Height {
			return fmt.Errorf("records: proposals in %s for image %d (%s) are for a %dx%d image, the data set says %dx%d",
				dir, p.ImageID, img.FileName, p.Width, p.Height, img.Width, img.Height)
		}
		out[p.ImageID] = proposalSet{Boxes: p.Boxes, Scores: p.Scores}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
