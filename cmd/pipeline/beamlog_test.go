package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestPlanDumpFilterDropsOnlyPlans(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(planDumpFilter{slog.NewTextHandler(&b, nil)})
	log.Error("job failed", "error", "bundle failed: while executing Process for Plan[stage-001]:\n1: DataSource")
	log.Error("Bundle Failed.", slog.Group("g", "error", "while executing Process for Plan[x]"))
	log.Warn("something else")
	if strings.Contains(b.String(), "Plan[") || !strings.Contains(b.String(), "something else") {
		t.Errorf("filtered log:\n%s", b.String())
	}
}
