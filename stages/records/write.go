package records

import (
	"context"
	"fmt"
	"sort"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

func init() {
	register.DoFn2x1[context.Context, shardSpec, error](&writeShardFn{})
}

// writeShardFn writes one shard per element. Its exported fields are its
// serialised configuration; the data set and proposals load once per worker
// in Setup.
type writeShardFn struct {
	Annotations string // COCO instances JSON of the split
	ImageRoot   string // folder file_name values are relative to
	Proposals   string // the proposals stage's folder of this split, or "" for none
	Out         string // folder the shards go to
	Masks       bool   // carry each object's mask (Record.GTMasks)

	fsys   *storage.FS
	ds     *coco.Dataset
	labels map[int64]int32
	props  map[int64]proposalSet
}

func (f *writeShardFn) Setup(ctx context.Context) error {
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		return err
	}
	f.fsys = fsys
	if f.ds, err = loadDataset(ctx, fsys, f.Annotations, f.Masks); err != nil {
		return err
	}
	f.labels = labelMap(f.ds)
	if f.Proposals != "" {
		if f.props, err = loadProposals(ctx, fsys, f.Proposals, f.ds); err != nil {
			return err
		}
	}
	return nil
}

func (f *writeShardFn) Teardown() error {
	if f.fsys != nil {
		return f.fsys.Close()
	}
	return nil
}

func (f *writeShardFn) ProcessElement(ctx context.Context, s shardSpec) error {
	rows := make([]schemas.Record, 0, len(s.ImageIDs))
	for _, id := range s.ImageIDs {
		r, err := f.record(ctx, id)
		if err != nil {
			return fmt.Errorf("records: %s shard %d: %w", s.Split, s.Index, err)
		}
		rows = append(rows, r)
	}
	return schemas.Write(ctx, f.fsys, storage.Join(f.Out, s.Name()), schemas.Records, rows)
}

// record joins one image's bytes, ground truth and proposals.
func (f *writeShardFn) record(ctx context.Context, id int64) (schemas.Record, error) {
	img, ok := f.ds.Image(id)
	if !ok {
		return schemas.Record{}, fmt.Errorf("image id %d is not in %s", id, f.Annotations)
	}
	data, err := f.fsys.ReadFile(ctx, storage.Join(f.ImageRoot, img.FileName))
	if err != nil {
		return schemas.Record{}, fmt.Errorf("image %d: %w", id, err)
	}
	r := schemas.Record{ImageID: id, FileName: img.FileName, Width: int32(img.Width), Height: int32(img.Height), Image: data}
	for _, a := range f.ds.ImageAnnotations(id) {
		x, y, w, h := a.BBox[0], a.BBox[1], a.BBox[2], a.BBox[3]
		r.GTBoxes = append(r.GTBoxes, float32(x), float32(y), float32(x+w), float32(y+h))
		r.GTLabels = append(r.GTLabels, f.labels[a.CategoryID])
		r.GTCategoryIDs = append(r.GTCategoryIDs, a.CategoryID)
		r.GTCrowd = append(r.GTCrowd, a.IsCrowd)
		if f.Masks {
			m, err := maskString(&a, img)
			if err != nil {
				return schemas.Record{}, fmt.Errorf("%s: image %d (%s): %w", f.Annotations, id, img.FileName, err)
			}
			r.GTMasks = append(r.GTMasks, m)
		}
	}
	if f.props != nil {
		p, ok := f.props[id]
		if !ok {
			return schemas.Record{}, fmt.Errorf("image %d (%s) has no proposals in %s", id, img.FileName, f.Proposals)
		}
		r.ProposalBoxes, r.ProposalScores = p.Boxes, p.Scores
	}
	return r, nil
}

// labelMap numbers categories 0..K-1 in increasing id order, as
// MMDetection's cat2label does.
func labelMap(ds *coco.Dataset) map[int64]int32 {
	ids := ds.CategoryIDs()
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	m := make(map[int64]int32, len(ids))
	for i, id := range ids {
		m[id] = int32(i)
	}
	return m
}

// maskString is an annotation's mask as the records carry it, at its
// image's size. A crowd region without a segmentation is its box (training
// ignores crowds; the slot keeps masks aligned with boxes).
func maskString(a *coco.Annotation, img coco.Image) (string, error) {
	switch m := a.Segmentation; {
	case m != nil && (m.H != img.Height || m.W != img.Width):
		return "", fmt.Errorf("annotation %d: segmentation RLE size [%d, %d] differs from the image's [%d, %d]", a.ID, m.H, m.W, img.Height, img.Width)
	case m != nil:
		return m.String(), nil
	case a.IsCrowd:
		return coco.BoxToRLE(a.BBox, img.Height, img.Width).String(), nil
	}
	return "", fmt.Errorf("annotation %d: no segmentation, which the model's mask head needs", a.ID)
}

// loadDataset loads a split's annotations, with each segmentation as an
// RLE when masks is set.
func loadDataset(ctx context.Context, fsys *storage.FS, path string, masks bool) (*coco.Dataset, error) {
	r, err := fsys.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open annotations: %w", err)
	}
	defer r.Close()
	load := coco.LoadDataset
	if masks {
		load = coco.LoadDatasetMasks
	}
	ds, err := load(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("load annotations %s: %w", path, err)
	}
	return ds, nil
}
