package report

import (
	"strings"

	"github.com/detflow/detflow/schemas"
)

// Pick returns the row a run reports for metric: among its rows of that
// name, those measured on an evaluation split (dataset not "train", e.g.
// synthetic/val) win over training-split ones, except for train_* metrics,
// and then the newest wins (the last evaluation of a run that evaluated
// several checkpoints); equal times keep the later row.
func Pick(rows []schemas.Metric, metric string) (schemas.Metric, bool) {
	var best schemas.Metric
	found, bestEval := false, false
	for _, r := range rows {
		if r.Metric != metric {
			continue
		}
		eval := isEvalSplit(r)
		switch {
		case !found, eval && !bestEval:
		case bestEval && !eval, r.Created.Before(best.Created):
			continue
		}
		best, found, bestEval = r, true, eval
	}
	return best, found
}

func isEvalSplit(r schemas.Metric) bool {
	if strings.HasPrefix(r.Metric, "train_") {
		return true // measured while training: the train split is the one
	}
	d := strings.ToLower(r.Dataset)
	return d != "train" && !strings.HasSuffix(d, "/train") && !strings.HasSuffix(d, "train2017")
}
