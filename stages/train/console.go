package train

import (
	"fmt"
	"strings"
	"time"

	"github.com/detflow/detflow/schemas"
)

// consoleLine renders a log row for people as MMDetection's text logger
// prints it (the JSON log and the Parquet table keep full precision):
//
//	Epoch [1][10/250] lr: 1.818e-03, eta: 0:03:12, time: 0.554, data_time: 0.010, memory: 1045, loss_cls: 0.8123, loss_bbox: 0.3012, loss: 1.1135
//
// A row with iter 0 closes an epoch whose length is not a multiple of the
// log interval; it is shown at the epoch's last iteration.
func consoleLine(r schemas.TrainLogRow, perEpoch int, eta time.Duration) string {
	iter := int(r.Iter)
	if iter == 0 {
		iter = perEpoch
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Epoch [%d][%d/%d] lr: %.3e, eta: %s, time: %.3f, data_time: %.3f, memory: %d",
		r.Epoch, iter, perEpoch, r.LR, etaString(eta), r.Time, r.DataTime, r.MemoryMB)
	for _, lv := range r.Losses {
		fmt.Fprintf(&b, ", %s: %.4f", lv.Name, lv.Value)
	}
	fmt.Fprintf(&b, ", loss: %.4f", r.Loss)
	return b.String()
}

// etaString prints d as Python's timedelta does in MMDetection's log:
// "0:03:12", "27:43:22" (hours past a day stay hours: easier to compare).
func etaString(d time.Duration) string {
	s := int64(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// eta estimates the time left from the mean iteration time of this
// process's iterations, as MMDetection does.
func (l *loop) eta() time.Duration {
	if len(l.iterTimes) == 0 {
		return 0
	}
	sum := 0.0
	for _, t := range l.iterTimes {
		sum += t
	}
	left := max(l.cfg.Epochs*l.perEpoch-l.step, 0)
	return time.Duration(sum / float64(len(l.iterTimes)) * float64(left) * float64(time.Second))
}
