package evaluate

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/container/tools"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/harness"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal/extworker"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/util/grpcx"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/zoo"
)

// The test binary doubles as the off-process helpers: with roleEnv set,
// TestMain serves one of these roles instead of running tests.
const (
	roleEnv      = "DETFLOW_EVALUATE_TEST_ROLE"
	portEnv      = "DETFLOW_EVALUATE_TEST_PORT"
	driverPIDEnv = "DETFLOW_EVALUATE_TEST_DRIVER_PID"

	roleJobServer     = "prism-job-server" // a standalone prism job server
	roleWorkerPool    = "worker-pool"      // an external worker pool running the SDK harnesses
	roleProcessWorker = "process-worker"   // one SDK harness, started by the runner (PROCESS environment)
)

// helperLifetime bounds a helper process that its test failed to stop.
const helperLifetime = 3 * time.Minute

func init() {
	RegisterLoader(loadOffProcessModel)
}

// serveRole runs a helper role until killed.
func serveRole(role string) int {
	port, err := strconv.Atoi(os.Getenv(portEnv))
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: bad %s: %v\n", role, portEnv, err)
		return 2
	}
	ctx := context.Background()
	time.AfterFunc(helperLifetime, func() { os.Exit(3) })
	switch role {
	case roleJobServer:
		if _, err := prism.CreateJobServer(ctx, prism.Options{Port: port}); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
			return 1
		}
	case roleWorkerPool:
		if _, err := extworker.StartLoopback(ctx, port); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
			return 1
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown role %q\n", role)
		return 2
	}
	select {}
}

// serveProcessWorker is what Beam's container boot program does for a
// PROCESS environment, minus fetching the staged binary (this binary is
// it): ask the runner's provision service for the control and logging
// endpoints and run the SDK harness until the runner stops it. The runner
// starts it as `worker --id='ID' --provision_endpoint=HOST:PORT`.
func serveProcessWorker(args []string) int {
	var id, provision string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--id="); ok {
			id = strings.Trim(v, "'")
		}
		if v, ok := strings.CutPrefix(a, "--provision_endpoint="); ok {
			provision = v
		}
	}
	if id == "" || provision == "" {
		fmt.Fprintf(os.Stderr, "process worker: want --id and --provision_endpoint, got %q\n", args)
		return 2
	}
	time.AfterFunc(helperLifetime, func() { os.Exit(3) })
	ctx := grpcx.WriteWorkerID(context.Background(), id)
	info, err := tools.ProvisionInfo(ctx, provision)
	if err != nil {
		fmt.Fprintf(os.Stderr, "process worker: %v\n", err)
		return 1
	}
	opts := harness.Options{StatusEndpoint: info.GetStatusEndpoint().GetUrl(), RunnerCapabilities: info.GetRunnerCapabilities()}
	if err := harness.MainWithOptions(ctx, info.GetLoggingEndpoint().GetUrl(), info.GetControlEndpoint().GetUrl(), opts); err != nil {
		fmt.Fprintf(os.Stderr, "process worker: %v\n", err)
		return 1
	}
	return 0
}

// loadOffProcessModel is the jittered model, loadable only in a process
// other than the test driver's: it proves the DoFns ran off process.
func loadOffProcessModel(ctx context.Context, cfg *configs.Config, e *tensor.Engine, checkpoint string) (Model, error) {
	driver := os.Getenv(driverPIDEnv)
	if driver == "" || driver == strconv.Itoa(os.Getpid()) {
		return nil, fmt.Errorf("off-process model loaded in the driver process %d (driver pid %q)", os.Getpid(), driver)
	}
	return loadJitteredModel(ctx, cfg, e, checkpoint)
}

// freePort asks the kernel for an unused port.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startHelper starts this test binary in a role and waits for its port.
func startHelper(t *testing.T, role string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), roleEnv+"="+role, portEnv+"="+strconv.Itoa(port), driverPIDEnv+"="+strconv.Itoa(os.Getpid()))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s (pid %d) output:\n%s", role, cmd.Process.Pid, tail(logs.String(), 4000))
		}
	})
	addr := "localhost:" + strconv.Itoa(port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s: %v", role, addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// setFlags sets Beam's command-line options for one test, as
// `pipeline run --runner=... --endpoint=...` would.
func setFlags(t *testing.T, kv map[string]string) {
	t.Helper()
	for k, v := range kv {
		f := flag.Lookup(k)
		if f == nil {
			t.Fatalf("no flag --%s", k)
		}
		old := f.Value.String()
		if err := flag.Set(k, v); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { flag.Set(k, old) })
	}
}

// TestOffProcessMatchesInProcess runs the stage with Beam's universal
// runner against a standalone prism job server in a second process, with
// the DoFns in other processes: an external worker pool, or SDK harness
// processes the runner starts itself (PROCESS environment, as Flink or
// Dataflow start workers). The metrics must equal the in-process run's.
func TestOffProcessMatchesInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts helper processes")
	}
	f := localFixture(t)
	inProcess := metricValues(t, f, run(t, f, loadJitteredModel, configs.Default), zoo.PipelineFastRCNN)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	driver := strconv.Itoa(os.Getpid())
	// The workers are this binary: built with CGO_ENABLED=0 when the
	// tests are (`CGO_ENABLED=0 go test`), as Beam builds worker binaries.
	t.Logf("worker binary %s, CGO_ENABLED=%s", self, buildSetting("CGO_ENABLED"))
	forms := []struct {
		name    string
		envType string
		config  func(t *testing.T) string
	}{
		{"external worker pool", "EXTERNAL", func(t *testing.T) string { return startHelper(t, roleWorkerPool) }},
		{"runner-started worker processes", "PROCESS", func(t *testing.T) string {
			cfg, _ := json.Marshal(map[string]any{"command": self,
				"env": map[string]string{roleEnv: roleProcessWorker, driverPIDEnv: driver}})
			return string(cfg)
		}},
	}
	for _, form := range forms {
		t.Run(form.name, func(t *testing.T) {
			checkOffProcess(t, f, self, form.envType, form.config(t), inProcess)
		})
	}
}

// buildSetting is a build setting of the running binary, e.g. CGO_ENABLED.
func buildSetting(key string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, s := range info.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return "unset"
}

func checkOffProcess(t *testing.T, f *fixture, self, envType, envConfig string, inProcess map[string]map[string]float64) {
	jobServer := startHelper(t, roleJobServer)
	t.Setenv(driverPIDEnv, strconv.Itoa(os.Getpid()))
	// The universal runner stages a worker binary whatever the
	// environment; without --worker_binary it would compile one (minutes).
	setFlags(t, map[string]string{"runner": "universal", "endpoint": jobServer,
		"environment_type": envType, "environment_config": envConfig, "worker_binary": self})
	out := filepath.Join(t.TempDir(), "evaluate")
	env := f.env(t, out, configs.Default)
	if err := (Stage{Load: loadOffProcessModel}).Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	offProcess := metricValues(t, f, out, zoo.PipelineFastRCNN)
	for kind, in := range inProcess {
		for name, v := range in {
			if name == "inference_images_per_s" {
				continue
			}
			if w, ok := offProcess[kind][name]; !ok || math.Float64bits(w) != math.Float64bits(v) {
				t.Errorf("%s %s: off process %v, in process %v", kind, name, w, v)
			}
		}
	}
	if len(offProcess["bbox"]) != len(inProcess["bbox"]) {
		t.Errorf("off process wrote %d bbox metrics, in process %d", len(offProcess["bbox"]), len(inProcess["bbox"]))
	}
	reevaluate(t, f, out, "bbox", offProcess["bbox"])
}
