package nn

import (
	"context"
	"fmt"

	"github.com/detflow/detflow/nn/pth"
)

// LoadPth loads a PyTorch state dict saved with torch.save (e.g.
// torchvision's resnet50-*.pth, or an MMDetection checkpoint whose
// "state_dict" entry is unwrapped automatically) into model. Names starting
// with prefix have it removed first and other names are ignored (e.g.
// "backbone." to load a detector's backbone alone); an empty prefix keeps
// every name. Integer tensors (num_batches_tracked) are converted to float32.
// Missing and unexpected keys are reported, not errors; "num_batches_tracked"
// keys are never reported missing.
func LoadPth(ctx context.Context, path string, model Module, prefix string) (LoadReport, error) {
	if err := ctx.Err(); err != nil {
		return LoadReport{}, fmt.Errorf("load pth %s: %w", path, err)
	}
	sd, err := pth.Load(path)
	if err != nil {
		return LoadReport{}, fmt.Errorf("load pth: %w", err)
	}
	if prefix != "" {
		sd = sd.TrimPrefix(prefix)
	}
	host := make(map[string]HostTensor, sd.Len())
	for _, name := range sd.Names {
		t := sd.Tensors[name]
		ht := HostTensor{Shape: t.Shape, Data: t.F32}
		if !t.IsFloat() {
			ht.Data = make([]float32, len(t.I64))
			for i, v := range t.I64 {
				ht.Data[i] = float32(v)
			}
		}
		host[name] = ht
	}
	rep, err := LoadStateDict(model, host, "num_batches_tracked")
	if err != nil {
		return LoadReport{}, fmt.Errorf("load pth %s: %w", path, err)
	}
	return rep, nil
}
