package records

import (
	"context"
	"fmt"
	"sort"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
	"github.com/parquet-go/parquet-go"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/storage"
)

// Stage is the records stage. With proposals it also reads the proposals
// stage (fast_rcnn_with_proposals); without, records carry ground truth only
// (rpn, faster_rcnn). WithMasks (models with a mask head, zoo.HasMasks)
// adds each object's mask.
type Stage struct {
	WithProposals bool
	WithMasks     bool
}

func (Stage) Name() string { return "records" }
func (Stage) Version() int { return 1 }

func (s Stage) Inputs() []string {
	if s.WithProposals {
		return []string{"dataset", "proposals"}
	}
	return []string{"dataset"}
}

func (Stage) ConfigKeys() []string { return []string{"records"} }

// Splits are the data set splits the stage shards.
var splits = [...]string{"train", "val"}

// Run writes each split's shards with a Beam pipeline, then indexes them.
func (s Stage) Run(ctx context.Context, env *stages.Env) error {
	dsDir, err := env.Input("dataset")
	if err != nil {
		return err
	}
	desc, err := dataset.ReadDescriptor(ctx, env.FS, dsDir)
	if err != nil {
		return err
	}
	cfg := env.Config.Records
	p, root := beam.NewPipelineWithRoot()
	indexes := make([]*Index, 0, len(splits))
	for _, name := range splits {
		loc, err := desc.Split(name)
		if err != nil {
			return err
		}
		ds, err := loadDataset(ctx, env.FS, loc.Annotations, false)
		if err != nil {
			return err
		}
		fn := &writeShardFn{Annotations: loc.Annotations, ImageRoot: loc.ImageRoot, Out: storage.Join(env.Out, name), Masks: s.WithMasks}
		if s.WithProposals {
			propDir, err := env.Input("proposals")
			if err != nil {
				return err
			}
			fn.Proposals = storage.Join(propDir, name)
		}
		specs := planShards(name, ds.ImageIDs(), cfg.ShardSize, cfg.Seed)
		scope := root.Scope("records_" + name)
		beam.ParDo0(scope, fn, beam.CreateList(scope, specs))
		indexes = append(indexes, &Index{Split: name, Images: len(ds.Images), Categories: categoryLabels(ds)})
		env.Log.Info("planned shards", "split", name, "images", len(ds.Images), "shards", len(specs))
	}
	if err := beamx.Run(ctx, p); err != nil {
		return fmt.Errorf("records pipeline: %w", err)
	}
	info := map[string]any{}
	for _, ix := range indexes {
		if err := indexShards(ctx, env.FS, storage.Join(env.Out, ix.Split), ix); err != nil {
			return err
		}
		info[ix.Split] = ix.Shards
	}
	env.Info = map[string]any{"shards": info}
	return nil
}

func categoryLabels(ds *coco.Dataset) []CategoryLabel {
	labels := labelMap(ds)
	out := make([]CategoryLabel, 0, len(labels))
	for _, c := range ds.Categories {
		out = append(out, CategoryLabel{ID: c.ID, Label: labels[c.ID], Name: c.Name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}

// indexShards records each written shard's rows, size and SHA-256, checks
// that together they hold every image, and writes the index.
func indexShards(ctx context.Context, fsys *storage.FS, dir string, ix *Index) error {
	files, err := fsys.List(ctx, dir)
	if err != nil {
		return err
	}
	rows := 0
	for _, f := range files {
		if f.IsDir || f.Name == IndexName {
			continue
		}
		d, err := fsys.DigestFile(ctx, f.Path)
		if err != nil {
			return err
		}
		n, err := countRows(ctx, fsys, f.Path)
		if err != nil {
			return fmt.Errorf("records: shard %s: %w", f.Path, err)
		}
		ix.Shards = append(ix.Shards, ShardInfo{File: f.Name, Rows: n, Bytes: d.Size, SHA256: d.SHA256})
		rows += n
	}
	if rows != ix.Images {
		return fmt.Errorf("records: %s shards hold %d images, the data set has %d", ix.Split, rows, ix.Images)
	}
	return writeIndex(ctx, fsys, dir, ix)
}

func countRows(ctx context.Context, fsys *storage.FS, p string) (int, error) {
	ra, err := fsys.OpenReaderAt(ctx, p)
	if err != nil {
		return 0, err
	}
	defer ra.Close()
	f, err := parquet.OpenFile(ra, ra.Size())
	if err != nil {
		return 0, err
	}
	return int(f.NumRows()), nil
}
