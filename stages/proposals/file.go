package proposals

import (
	"context"
	"fmt"
	"slices"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/storage"
)

// runFile imports the split's proposals file, applies the stage's rules and
// writes it as part files. It runs in the driver: a proposals file is one
// object to parse, not a data-parallel job.
func runFile(ctx context.Context, env *stages.Env, cfg configs.Proposals, sp split, out string) error {
	key, p := "proposals.file.val", cfg.File.Val
	if sp.Name == "train" {
		key, p = "proposals.file.train", cfg.File.Train
	}
	if p == "" {
		return fmt.Errorf("%s is empty: proposals.method %q needs a proposals file for the %s split", key, MethodFile, sp.Name)
	}
	opt := importOptions{NonFinite: cfg.File.NonFinite, Log: env.Log}
	return importSplit(ctx, env.FS, sp, p, cfg.File.Format, cfg.MinSize, topK(cfg, sp.Name), out, opt)
}

// importSplit imports one proposals file for a split and writes its parts.
func importSplit(ctx context.Context, fsys *storage.FS, sp split, path, format string, minSize float64, k int, out string, opt importOptions) error {
	fp, err := importFile(ctx, fsys, path, format)
	if err != nil {
		return err
	}
	entries, err := fp.match(sp)
	if err != nil {
		return err
	}
	if err := checkFinite(path, sp, entries, opt); err != nil {
		return err
	}
	rows := make([]schemas.ImageProposals, len(entries))
	finished := make([][]float32, len(entries))
	for i, e := range entries {
		im := sp.GT.Images[i]
		boxes, scores := finish(e.boxes, e.scored(), im.Width, im.Height, minSize, k)
		rows[i] = schemas.ImageProposals{ImageID: im.ID, FileName: im.FileName, Split: sp.Name,
			Width: int32(im.Width), Height: int32(im.Height), Boxes: boxes, Scores: scores}
		finished[i] = boxes
	}
	if fp.byOrder {
		checkOrder(path, fp.layout, sp, finished, opt)
	}
	slices.SortFunc(rows, func(a, b schemas.ImageProposals) int { return int(min(max(a.ImageID-b.ImageID, -1), 1)) })
	for i := 0; i*ImagesPerPart < len(rows); i++ {
		if err := writePart(ctx, fsys, out, i, rows[i*ImagesPerPart:min((i+1)*ImagesPerPart, len(rows))]); err != nil {
			return err
		}
	}
	return nil
}
