package train

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/console"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/stages/records"
	"github.com/detflow/detflow/storage"
)

// Files the stage writes (in its work folder while training, then in its
// outputs).
const (
	latestName = "latest"          // holds the newest checkpoint's file name
	logName    = "train_log.jsonl" // one JSON line per logging interval
	tableName  = "train_log.parquet"
	metricName = "metrics.parquet"
)

func checkpointName(epoch int) string { return fmt.Sprintf("epoch_%d.safetensors", epoch) }

// loop is one training run's state.
type loop struct {
	env  *stages.Env
	work string // local folder of the working files (see localWork)
	cfg  configs.Train
	// loadFrom is model.load_from (or the deprecated train.load_from),
	// loaded by weights.
	loadFrom string
	weights  WeightLoader
	tr       *Trainer
	rd       *records.Reader
	data     batch.Options
	opts     Options

	epoch, step int // epochs and iterations completed
	perEpoch    int // iterations per epoch
	iterTimes   []float64
	skipped     int // steps of this attempt the loss scaler skipped
}

func (l *loop) run(ctx context.Context) error {
	if err := os.MkdirAll(l.work, 0o755); err != nil {
		return fmt.Errorf("train: create work folder: %w", err)
	}
	if err := l.pull(ctx); err != nil {
		return err
	}
	if err := l.restore(ctx); err != nil {
		return err
	}
	n := l.opts.Replicas * l.opts.ImagesPerReplica
	l.perEpoch = itersPerEpoch(l.rd.Index.Images, n)
	bar := l.env.Progress.New("train", l.cfg.Epochs*l.perEpoch)
	bar.Add(l.step)
	defer bar.Done()
	for l.epoch < l.cfg.Epochs {
		if err := l.runEpoch(ctx, n, bar); err != nil {
			return err
		}
		l.epoch++
		if l.epoch%max(l.cfg.CheckpointInterval, 1) == 0 || l.epoch == l.cfg.Epochs {
			if err := l.save(ctx); err != nil {
				return err
			}
		}
	}
	return l.publish(ctx)
}

// restore resumes from the work folder's latest checkpoint (an interrupted
// attempt), else from train.resume_from, else loads train.load_from weights.
func (l *loop) restore(ctx context.Context) error {
	latest, err := os.ReadFile(storage.Join(l.work, latestName))
	switch {
	case err == nil:
		return l.resume(ctx, storage.Join(l.work, strings.TrimSpace(string(latest))), "interrupted run")
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("train: read latest checkpoint pointer: %w", err)
	case l.cfg.ResumeFrom != "":
		return l.resume(ctx, l.cfg.ResumeFrom, "train.resume_from")
	}
	// A fresh start: an attempt killed before its first checkpoint may have
	// logged steps that this one logs again.
	if err := truncateLog(storage.Join(l.work, logName), 0); err != nil {
		return fmt.Errorf("train: reset log: %w", err)
	}
	if l.loadFrom == "" {
		return nil
	}
	if l.cfg.LoadFrom != "" {
		l.env.Log.Warn("train.load_from is deprecated: set model.load_from")
	}
	local, cleanup, err := stages.LocalWeights(ctx, l.env, "train: model.load_from", l.loadFrom)
	if err != nil {
		return err
	}
	err = l.loadWeights(ctx, local)
	if err = errors.Join(err, cleanup()); err != nil {
		return fmt.Errorf("train: model.load_from: %w", err)
	}
	return l.tr.Sync()
}

// loadWeights loads a checkpoint into the model: any layout through
// l.weights, else a detflow checkpoint.
func (l *loop) loadWeights(ctx context.Context, path string) error {
	if l.weights != nil {
		return l.weights(ctx, l.tr.Model(), path, l.env.Log)
	}
	_, rep, err := nn.LoadCheckpoint(ctx, path, l.tr.Model(), nil)
	if err == nil {
		l.env.Log.Info("loaded weights", "from", l.loadFrom, "report", rep.String())
	}
	return err
}

func (l *loop) resume(ctx context.Context, path, why string) error {
	local, cleanup, err := l.env.FS.Localize(ctx, path)
	if err != nil {
		return fmt.Errorf("train: resume (%s): %w", why, err)
	}
	info, rep, err := nn.LoadCheckpoint(ctx, local, l.tr.Model(), l.tr.Optimizer())
	err = errors.Join(err, cleanup())
	if err != nil {
		return fmt.Errorf("train: resume (%s): %w", why, err)
	}
	if !rep.Clean() {
		return fmt.Errorf("train: resume from %s: checkpoint does not match the model: %s", path, rep)
	}
	if err := l.tr.Sync(); err != nil {
		return err
	}
	l.epoch, l.step = info.Epoch, int(info.Step)
	if err := l.restoreScaler(info.Meta); err != nil {
		return fmt.Errorf("train: resume from %s: %w", path, err)
	}
	l.env.Log.Info("resumed", "from", path, "why", why, "epoch", l.epoch, "step", l.step)
	return truncateLog(storage.Join(l.work, logName), l.step)
}

// Checkpoint metadata keys of the loss scaler's state.
const (
	metaLossScale  = "loss_scale"
	metaCleanSteps = "loss_scale_clean_steps"
)

// restoreScaler restores the loss scaler's state from a checkpoint's
// metadata; a checkpoint without it (trained unscaled) leaves the
// scaler's initial state.
func (l *loop) restoreScaler(meta map[string]string) error {
	sc := l.opts.LossScaler
	s, ok := meta[metaLossScale]
	if sc == nil || !ok {
		return nil
	}
	scale, err := strconv.ParseFloat(s, 64)
	if err != nil || !(scale > 0) {
		return fmt.Errorf("checkpoint metadata %s = %q: want a number > 0", metaLossScale, s)
	}
	clean, err := strconv.Atoi(meta[metaCleanSteps])
	if err != nil || clean < 0 {
		return fmt.Errorf("checkpoint metadata %s = %q: want an integer >= 0", metaCleanSteps, meta[metaCleanSteps])
	}
	if sc.Dynamic { // a static scale is the config's, whatever the checkpoint says
		sc.Scale, sc.CleanSteps = scale, clean
	}
	return nil
}

// lastCheckpoint says where the last good checkpoint is, or that there is
// none yet: pointing at an empty folder sent users looking for one.
func (l *loop) lastCheckpoint() string {
	latest, err := os.ReadFile(storage.Join(l.work, latestName))
	if err == nil {
		p := storage.Join(l.work, strings.TrimSpace(string(latest)))
		if _, err := os.Stat(p); err == nil {
			return "the last good checkpoint is " + p
		}
	}
	return "before the first checkpoint: there is none to go back to (train.checkpoint_interval sets how often one is written)"
}

// runEpoch trains one epoch, logging every log_interval iterations.
func (l *loop) runEpoch(ctx context.Context, n int, bar interface{ Add(int) }) error {
	// Images are prepared on up to GOMAXPROCS goroutines, 2 batches ahead,
	// so data_time (the wait for the next batch) stays near zero while the
	// step's compute is the bottleneck.
	ld := batch.NewLoader(ctx, l.data, true, runtime.GOMAXPROCS(0), loadAhead,
		epochBatches(l.rd, l.epoch, n, l.opts.Seed))
	defer ld.Stop()
	var win logWindow
	clock := elapsed{time.Now()}
	iter := 0
	for b := range ld.Batches() {
		wait := clock.lap()
		if b.Err != nil {
			return fmt.Errorf("train: epoch %d: load data: %w", l.epoch+1, b.Err)
		}
		iter++ // 1-based, as logged
		lr := l.opts.Schedule.LR(l.epoch, l.step)
		rngs := make([]*rand.Rand, len(b.Items))
		for i := range rngs {
			rngs[i] = seeded(l.opts.Seed, "sample", uint64(l.step), uint64(i))
		}
		res, err := l.tr.Step(b.Items, rngs, lr)
		if err != nil {
			var le *LossError
			if errors.As(err, &le) {
				return fmt.Errorf("train: epoch %d iter %d (step %d): %w; stopped, %s",
					l.epoch+1, iter, l.step+1, err, l.lastCheckpoint())
			}
			return fmt.Errorf("train: epoch %d iter %d: %w", l.epoch+1, iter, err)
		}
		took := clock.lap()
		l.step++
		l.iterTimes = append(l.iterTimes, (wait + took).Seconds())
		win.add(res, wait+took, wait)
		if res.Skipped {
			l.skipped++
		}
		win.scale = l.lossScale()
		bar.Add(1)
		if iter%max(l.cfg.LogInterval, 1) == 0 {
			if err := l.writeLog(win.row(l.epoch+1, iter, l.step, lr)); err != nil {
				return err
			}
			win = logWindow{}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err // the loader stopped early
	}
	if win.n > 0 {
		return l.writeLog(win.row(l.epoch+1, 0, l.step, l.opts.Schedule.LR(l.epoch, l.step-1)))
	}
	return nil
}

// lossScale is the loss scaler's current scale, 0 without one.
func (l *loop) lossScale() float64 {
	if sc := l.opts.LossScaler; sc != nil {
		return sc.Scale
	}
	return 0
}

// save writes this epoch's checkpoint to the work folder, then the pointer.
func (l *loop) save(ctx context.Context) error {
	name := checkpointName(l.epoch)
	info := nn.CheckpointInfo{Step: int64(l.step), Epoch: l.epoch, Meta: map[string]string{"run": l.env.Run}}
	if sc := l.opts.LossScaler; sc != nil { // resumed with the checkpoint, as mmcv keeps GradScaler's state
		info.Meta[metaLossScale] = strconv.FormatFloat(sc.Scale, 'g', -1, 64)
		info.Meta[metaCleanSteps] = strconv.Itoa(sc.CleanSteps)
	}
	if err := nn.SaveCheckpoint(ctx, storage.Join(l.work, name), l.tr.Model(), l.tr.Optimizer(), info); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if _, err := l.env.FS.WriteFile(ctx, storage.Join(l.work, latestName), []byte(name+"\n")); err != nil {
		return fmt.Errorf("train: update latest checkpoint pointer: %w", err)
	}
	l.env.Log.Info("checkpoint", "epoch", l.epoch, "step", l.step, "file", name)
	if l.work == l.env.Work {
		return nil
	}
	if err := pushWork(ctx, l.env.FS, l.work, l.env.Work, name); err != nil {
		return err
	}
	l.env.Log.Info("checkpoint mirrored", "to", l.env.Work)
	return nil
}

// pull refreshes the local mirror of a gs:// work folder from gs:// when
// gs:// holds a newer checkpoint (a run preempted on another machine), so
// restore resumes from the newest.
func (l *loop) pull(ctx context.Context) error {
	if l.work == l.env.Work {
		return nil
	}
	ok, err := pullWork(ctx, l.env.FS, l.work, l.env.Work)
	if ok {
		l.env.Log.Info("fetched the latest checkpoint", "from", l.env.Work)
	}
	return err
}

// logWindow averages one logging interval. Each loss is averaged over the
// steps that returned it (as MMDetection's log buffer), so a loss a model
// returns only on some steps is not diluted by the others.
type logWindow struct {
	n              int
	time, dataTime float64
	losses         map[string]float64
	counts         map[string]int
	total, norm    float64
	skipped        int     // steps the loss scaler skipped; their norms are not averaged
	scale          float64 // the loss scale after the last step
}

func (w *logWindow) add(r StepResult, took, wait time.Duration) {
	if w.losses == nil {
		w.losses, w.counts = map[string]float64{}, map[string]int{}
	}
	w.n++
	w.time += took.Seconds()
	w.dataTime += wait.Seconds()
	w.total += r.Total
	if r.Skipped {
		w.skipped++
	} else {
		w.norm += r.GradNorm
	}
	for k, v := range r.Losses {
		w.losses[k] += v
		w.counts[k]++
	}
}

func (w *logWindow) row(epoch, iter, step int, lr float64) schemas.TrainLogRow {
	f := 1 / float64(max(w.n, 1))
	row := schemas.TrainLogRow{Epoch: int32(epoch), Iter: int32(iter), Step: int64(step), LR: lr,
		Time: w.time * f, DataTime: w.dataTime * f, MemoryMB: stages.PeakRSSMiB(), Loss: w.total * f,
		GradNorm: w.norm / float64(max(w.n-w.skipped, 1)), LossScale: w.scale, SkippedSteps: int32(w.skipped)}
	for _, k := range sortedKeys(w.losses) {
		// Times a reciprocal, as f: when every step has the loss, exactly w.losses[k] * f.
		row.Losses = append(row.Losses, schemas.LossValue{Name: k, Value: w.losses[k] * (1 / float64(w.counts[k]))})
	}
	return row
}

// writeLog appends one JSON line (MMDetection's log.json layout: epoch,
// iter, lr, time, data_time, memory, then each loss) and logs it.
func (l *loop) writeLog(row schemas.TrainLogRow) error {
	row.Precision = l.cfg.Precision
	b, err := json.Marshal(row)
	if err != nil {
		return err
	}
	obj := map[string]any{}
	json.Unmarshal(b, &obj)
	for _, lv := range row.Losses {
		obj[lv.Name] = lv.Value
	}
	line, _ := json.Marshal(obj)
	f, err := os.OpenFile(storage.Join(l.work, logName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("train: open log: %w", err)
	}
	_, werr := f.Write(append(line, '\n'))
	if err := errors.Join(werr, f.Close()); err != nil {
		return fmt.Errorf("train: write log: %w", err)
	}
	args := []any{"epoch", row.Epoch, "iter", row.Iter, "lr", row.LR, "loss", row.Loss}
	for _, lv := range row.Losses {
		args = append(args, lv.Name, lv.Value)
	}
	if l.opts.LossScaler != nil {
		args = append(args, "loss_scale", row.LossScale, "skipped_steps", row.SkippedSteps)
	}
	l.env.Log.Info("train", append(args, "time", row.Time, console.Say(consoleLine(row, l.perEpoch, l.eta())))...)
	return nil
}

// truncateLog drops log lines past step, which a resumed run redoes.
func truncateLog(path string, step int) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var keep bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var r struct{ Step int }
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Step <= step {
			keep.Write(sc.Bytes())
			keep.WriteByte('\n')
		}
	}
	return os.WriteFile(path, keep.Bytes(), 0o644)
}
