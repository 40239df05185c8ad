package configs

import "testing"

// BenchmarkLoad measures resolving the default config (defaults, five
// bases, the file and one --set) and validating it.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(Default, []string{"train.lr=0.01"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValues measures the flattening the orchestrator does per stage.
func BenchmarkValues(b *testing.B) {
	cfg, err := Load(Default, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := cfg.Values("model", "train"); err != nil {
			b.Fatal(err)
		}
	}
}
