package records

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/detflow/detflow/storage"
)

// IndexName is each split folder's shard index.
const IndexName = "index.json"

// Index lists a split's shards with what a reader checks them against.
type Index struct {
	Split      string          `json:"split"`
	Images     int             `json:"images"`
	Shards     []ShardInfo     `json:"shards"`
	Categories []CategoryLabel `json:"categories"`
}

// ShardInfo is one shard file.
type ShardInfo struct {
	File   string `json:"file"`
	Rows   int    `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// CategoryLabel maps a COCO category id to the contiguous label the model
// predicts, so detections map back to category ids.
type CategoryLabel struct {
	ID    int64  `json:"id"`
	Label int32  `json:"label"`
	Name  string `json:"name"`
}

func readIndex(ctx context.Context, fsys *storage.FS, splitDir string) (*Index, error) {
	p := storage.Join(splitDir, IndexName)
	b, err := fsys.ReadFile(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("read shard index: %w", err)
	}
	var ix Index
	if err := json.Unmarshal(b, &ix); err != nil {
		return nil, fmt.Errorf("read shard index %s: %w", p, err)
	}
	return &ix, nil
}

func writeIndex(ctx context.Context, fsys *storage.FS, splitDir string, ix *Index) error {
	b, err := json.MarshalIndent(ix, "", "  ")
	if err != nil {
		return err
	}
	if _, err := fsys.WriteFile(ctx, storage.Join(splitDir, IndexName), append(b, '\n')); err != nil {
		return fmt.Errorf("write shard index: %w", err)
	}
	return nil
}
