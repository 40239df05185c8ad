package train

import (
	"testing"
	"time"

	"github.com/detflow/detflow/schemas"
)

func TestConsoleLineIsMMDetectionsTextLog(t *testing.T) {
	row := schemas.TrainLogRow{Epoch: 1, Iter: 10, LR: 0.0018181818181818182, Time: 0.55432, DataTime: 0.0104, MemoryMB: 1045,
		Loss: 1.11349, Losses: []schemas.LossValue{{Name: "loss_bbox", Value: 0.30121}, {Name: "loss_cls", Value: 0.81228}}}
	tests := []struct {
		iter int32
		eta  time.Duration
		want string
	}{
		{10, 3*time.Minute + 12*time.Second,
			"Epoch [1][10/250] lr: 1.818e-03, eta: 0:03:12, time: 0.554, data_time: 0.010, memory: 1045, loss_bbox: 0.3012, loss_cls: 0.8123, loss: 1.1135"},
		{0, 27*time.Hour + 43*time.Minute + 22*time.Second, // an epoch's closing partial interval
			"Epoch [1][250/250] lr: 1.818e-03, eta: 27:43:22, time: 0.554, data_time: 0.010, memory: 1045, loss_bbox: 0.3012, loss_cls: 0.8123, loss: 1.1135"},
	}
	for _, tt := range tests {
		row.Iter = tt.iter
		if got := consoleLine(row, 250, tt.eta); got != tt.want {
			t.Errorf("iter %d:\n got %s\nwant %s", tt.iter, got, tt.want)
		}
	}
}
