package detector

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// LoadFromOptions configure LoadFrom.
type LoadFromOptions struct {
	// Strict refuses any difference between checkpoint and model, as
	// evaluation needs. Otherwise (fine-tuning) class-dependent layers of
	// another shape, and heads the checkpoint lacks, keep the model's fresh
	// initialisation, as MMDetection's load_from does.
	Strict bool
	Log    *slog.Logger // nil: no log lines
}

// LoadFromReport says what LoadFrom did.
type LoadFromReport struct {
	Layout          Layout
	Loaded          int      // entries copied into the model
	Reinitialised   []string // class-dependent entries of another shape, left as initialised
	NotInCheckpoint []string // head entries the checkpoint lacks, left as initialised
	// COCOMapped entries of a torchvision COCO detector (labels for ids
	// 1..90) were cut to the 80 annotated categories, in id order.
	COCOMapped []string
}

// LoadFrom loads a whole-detector checkpoint into m (model.load_from): a
// detflow or MMDetection v2/v3 checkpoint, an MMDetection v0/v1 one, a
// torchvision detection state dict or a Detectron2 .pkl/.pth (see
// ReadWeights for the file formats and DetectLayout for the layouts). An
// entry the model does not have, or a backbone or neck entry of another
// shape, means the checkpoint is of another architecture: the error names
// the first such entry and nothing is loaded.
func LoadFrom(ctx context.Context, m nn.Module, path string, opts LoadFromOptions) (LoadFromReport, error) {
	sd, err := ReadWeights(ctx, path)
	if err != nil {
		return LoadFromReport{}, fmt.Errorf("load %s: %w", path, err)
	}
	rep, err := LoadStateDictFrom(m, sd, opts)
	if err != nil {
		return rep, fmt.Errorf("load %s: %w", path, err)
	}
	return rep, nil
}

// LoadStateDictFrom is LoadFrom for a state dict already read.
func LoadStateDictFrom(m nn.Module, sd map[string]nn.HostTensor, opts LoadFromOptions) (LoadFromReport, error) {
	rep := LoadFromReport{Layout: DetectLayout(sd)}
	if rep.Layout == LayoutClassifier {
		return rep, fmt.Errorf("an image classifier's state dict (conv1.*, layer1.*), not a detector's: load it with model.backbone.pretrained")
	}
	mp, unmapped, err := toDetflow(sd, rep.Layout)
	if err != nil {
		return rep, err
	}
	if len(unmapped) > 0 {
		return rep, fmt.Errorf("%s checkpoint: entry %q has no detflow counterpart: the checkpoint is of an architecture detflow does not build", rep.Layout, unmapped[0])
	}
	own := nn.StateDict(m)
	keep, err := rep.selectEntries(own, mp, opts.Strict)
	if err != nil {
		return rep, err
	}
	if _, err := nn.LoadStateDict(m, keep, "num_batches_tracked"); err != nil {
		return rep, err
	}
	rep.Loaded = len(keep)
	rep.log(opts.Log)
	return rep, nil
}

// selectEntries returns the entries of mp to copy into a model whose
// state dict is own, or an error naming the first that rules out loading.
func (rep *LoadFromReport) selectEntries(own map[string]*tensor.Tensor, mp mapped, strict bool) (map[string]nn.HostTensor, error) {
	keep := make(map[string]nn.HostTensor, len(mp.sd))
	for _, k := range slices.Sorted(maps.Keys(mp.sd)) {
		v, t := mp.sd[k], own[k]
		switch {
		case t == nil && strings.HasSuffix(k, "num_batches_tracked"):
		case t == nil:
			return nil, fmt.Errorf("%s checkpoint: entry %s is not in the model: the checkpoint is of another architecture", rep.Layout, mp.describe(k))
		case slices.Equal(v.Shape, t.Shape()) || (len(v.Data) == 1 && t.Len() == 1):
			keep[k] = v
		case rep.Layout == LayoutTorchvision && classDependent(k) && rep.onCOCO(k, v, t.Shape(), keep):
		case classDependent(k) && !strict:
			rep.Reinitialised = append(rep.Reinitialised, fmt.Sprintf("%s %v (model %v)", k, v.Shape, t.Shape()))
		case classDependent(k):
			return nil, fmt.Errorf("%s checkpoint: entry %s has shape %v, the model's %v: the checkpoint has another number of classes", rep.Layout, mp.describe(k), v.Shape, t.Shape())
		default:
			return nil, fmt.Errorf("%s checkpoint: entry %s has shape %v, the model's %v: the checkpoint is of another architecture", rep.Layout, mp.describe(k), v.Shape, t.Shape())
		}
	}
	for _, k := range slices.Sorted(maps.Keys(own)) {
		if _, ok := mp.sd[k]; ok || strings.HasSuffix(k, "num_batches_tracked") {
			continue
		}
		if strict || !isHead(k) {
			return nil, fmt.Errorf("%s checkpoint: the model's %q is not in it: the checkpoint is of another architecture", rep.Layout, k)
		}
		rep.NotInCheckpoint = append(rep.NotInCheckpoint, k)
	}
	return keep, nil
}

// onCOCO puts a torchvision COCO detector's class rows for ids 1..90 onto
// a model of the 80 annotated COCO categories, when the shapes say so.
func (rep *LoadFromReport) onCOCO(k string, v nn.HostTensor, want []int, keep map[string]nn.HostTensor) bool {
	c, ok := cocoRows(k, v)
	if !ok || !slices.Equal(c.Shape, want) {
		return false
	}
	keep[k] = c
	rep.COCOMapped = append(rep.COCOMapped, k)
	return true
}

// describe names a mapped entry by its checkpoint name, and its detflow
// name where that differs.
func (m mapped) describe(k string) string {
	if src := m.source[k]; src != k {
		return fmt.Sprintf("%q (detflow name %q)", src, k)
	}
	return fmt.Sprintf("%q", k)
}

// classDependent entries change shape with the number of classes.
func classDependent(k string) bool {
	for _, p := range []string{"roi_head.bbox_head.fc_cls.", "roi_head.bbox_head.fc_reg.", "bbox_head.retina_cls.", "roi_head.mask_head.conv_logits."} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// isHead says whether k belongs to a detection head, which fine-tuning may
// start afresh (an RPN checkpoint for a Faster R-CNN).
func isHead(k string) bool {
	return strings.HasPrefix(k, "rpn_head.") || strings.HasPrefix(k, "roi_head.") || strings.HasPrefix(k, "bbox_head.")
}

func (rep LoadFromReport) log(l *slog.Logger) {
	if l == nil {
		return
	}
	for _, k := range rep.Reinitialised {
		l.Info("model.load_from: re-initialised a class-dependent layer (the checkpoint has another number of classes)", "entry", k)
	}
	if len(rep.COCOMapped) > 0 {
		l.Info("model.load_from: torchvision's COCO labels (ids 1..90) mapped onto the 80 annotated categories", "entries", strings.Join(rep.COCOMapped, ", "))
	}
	if len(rep.NotInCheckpoint) > 0 {
		l.Info("model.load_from: head entries not in the checkpoint keep their initialisation", "entries", strings.Join(rep.NotInCheckpoint, ", "))
	}
	l.Info("model.load_from: loaded", "layout", string(rep.Layout), "entries", rep.Loaded)
}

// ReadWeights reads the model weights of a checkpoint file, telling the
// format by content: safetensors (detflow checkpoints; optimizer state is
// dropped later), a torch.save archive (zip or legacy; a nested
// "state_dict" or "model" is unwrapped), or, for a name ending in ".pkl",
// a pickle of numpy arrays (Detectron "blobs", Detectron2 "model"), read
// without running any code.
func ReadWeights(ctx context.Context, path string) (map[string]nn.HostTensor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	head, err := fileHead(path, 16)
	if err != nil {
		return nil, err
	}
	switch {
	case len(head) < 16:
		return nil, fmt.Errorf("%d bytes: too short for a checkpoint", len(head))
	case isSafetensors(head):
		return nn.ReadSafetensors(path)
	case strings.HasSuffix(path, ".pkl"):
		return readDetectronBlobs(ctx, path)
	}
	sd, err := readPth(ctx, path)
	if err != nil && string(head[:4]) == "PK\x03\x04" {
		return nil, fmt.Errorf("a torch.save zip archive that does not read (truncated?): %w", err)
	}
	return sd, err
}

func fileHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	k, err := io.ReadFull(f, b)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return b[:k], err
}

// isSafetensors: an 8-byte little-endian header length, then a JSON object.
func isSafetensors(head []byte) bool {
	n := binary.LittleEndian.Uint64(head)
	return n >= 2 && n < 1<<30 && head[8] == '{'
}
