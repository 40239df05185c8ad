package train

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/storage"
)

// publish copies the checkpoints and the log from the work folder into the
// stage's outputs and writes the train_log and metrics tables. Copies, not
// moves: until the orchestrator publishes, the work folder stays complete.
func (l *loop) publish(ctx context.Context) error {
	for e := 1; e <= l.cfg.Epochs; e++ {
		name := checkpointName(e)
		if _, err := os.Stat(storage.Join(l.work, name)); err != nil {
			continue // not a checkpoint epoch
		}
		if err := copyFile(ctx, l, name); err != nil {
			return err
		}
	}
	for _, name := range []string{latestName, logName} {
		if err := copyFile(ctx, l, name); err != nil {
			return err
		}
	}
	rows, err := readLog(storage.Join(l.work, logName), l.env.Run)
	if err != nil {
		return err
	}
	if err := schemas.Write(ctx, l.env.FS, storage.Join(l.env.Out, tableName), schemas.TrainLog, rows); err != nil {
		return err
	}
	return schemas.Write(ctx, l.env.FS, storage.Join(l.env.Out, metricName), schemas.Metrics, l.metrics())
}

func copyFile(ctx context.Context, l *loop, name string) error {
	b, err := os.ReadFile(storage.Join(l.work, name))
	if err != nil {
		return fmt.Errorf("train: publish %s: %w", name, err)
	}
	if _, err := l.env.FS.WriteFile(ctx, storage.Join(l.env.Out, name), b); err != nil {
		return fmt.Errorf("train: publish %s: %w", name, err)
	}
	return nil
}

// metrics are the speed and memory figures the model zoo reports: seconds
// per iteration (median of this attempt's iterations, so a slow first step
// does not skew it), images per second and peak memory; with fp16's loss
// scaler, its final scale and the steps of this attempt it skipped. (The
// precision itself is a column of the train log.)
func (l *loop) metrics() []schemas.Metric {
	now := time.Now().UTC()
	m := func(name string, v float64) schemas.Metric {
		return schemas.Metric{Run: l.env.Run, Stage: "train", Checkpoint: checkpointName(l.epoch), Dataset: "train",
			Metric: name, Value: v, Created: now}
	}
	out := []schemas.Metric{m("train_peak_memory_mb", float64(stages.PeakRSSMiB()))}
	if sc := l.opts.LossScaler; sc != nil {
		out = append(out, m("train_loss_scale", sc.Scale), m("train_skipped_steps", float64(l.skipped)))
	}
	if len(l.iterTimes) > 0 {
		ts := append([]float64(nil), l.iterTimes...)
		sort.Float64s(ts)
		med := ts[len(ts)/2]
		out = append(out, m("train_s_per_iter", med),
			m("train_images_per_s", float64(l.opts.Replicas*l.opts.ImagesPerReplica)/med))
	}
	return out
}

// logFields are the keys of a JSON log line that are not losses; a model's
// loss may not take one of these names (checkLossNames).
var logFields = map[string]bool{"epoch": true, "iter": true, "step": true, "lr": true, "time": true,
	"data_time": true, "memory": true, "loss": true, "grad_norm": true,
	"precision": true, "loss_scale": true, "skipped_steps": true}

// readLog parses the JSON log back into table rows; keys other than the
// fixed fields are losses.
func readLog(path, run string) ([]schemas.TrainLogRow, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("train: read log: %w", err)
	}
	var rows []schemas.TrainLogRow
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var r schemas.TrainLogRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("train: log %s line %d: %w", path, len(rows)+1, err)
		}
		var all map[string]any
		json.Unmarshal(sc.Bytes(), &all)
		for _, k := range sortedKeys(all) {
			if v, ok := all[k].(float64); ok && !logFields[k] {
				r.Losses = append(r.Losses, schemas.LossValue{Name: k, Value: v})
			}
		}
		r.Run = run
		rows = append(rows, r)
	}
	return rows, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
