package gpu

import (
	"fmt"
	"strings"
	"testing"
)

// ncclCall is one collective call seen by the fake NCCL.
type ncclCall struct {
	op               string
	send, recv       uintptr
	count            uint64
	root             int32
	comm, stream     uintptr
	dtype, redOp     int32
	insideGroupDepth int
}

// fakeNCCL is an NCCL communicator over fake devices whose library records
// the calls instead of moving data.
func fakeNCCL(t *testing.T, ranks int, failOn string) (*NCCL, *[]ncclCall, *[]string) {
	var calls []ncclCall
	var events []string
	depth := 0
	lib := &ncclLib{Path: "fake-nccl"}
	lib.groupStart = func() int32 { depth++; events = append(events, "start"); return 0 }
	lib.groupEnd = func() int32 { depth--; events = append(events, "end"); return 0 }
	lib.errString = func(int32) uintptr { return 0 }
	record := func(c ncclCall) int32 {
		c.insideGroupDepth = depth
		calls = append(calls, c)
		if failOn != "" && fmt.Sprintf("%s rank-comm %d tensor-count %d", c.op, c.comm, c.count) == failOn {
			return 3 // ncclInternalError
		}
		return 0
	}
	lib.reduce = func(send, recv uintptr, count uint64, dtype, op, root int32, comm, stream uintptr) int32 {
		return record(ncclCall{op: "reduce", send: send, recv: recv, count: count, root: root, comm: comm, stream: stream, dtype: dtype, redOp: op})
	}
	lib.broadcast = func(send, recv uintptr, count uint64, dtype, root int32, comm, stream uintptr) int32 {
		return record(ncclCall{op: "broadcast", send: send, recv: recv, count: count, root: root, comm: comm, stream: stream, dtype: dtype})
	}
	c := &NCCL{lib: lib, Version: 22703}
	for r := 0; r < ranks; r++ {
		d := newFakeDevice(t).dev
		d.info.Ordinal = r
		d.stream = uintptr(100 + r)
		c.devs = append(c.devs, d)
		c.comms = append(c.comms, uintptr(500+r))
	}
	return c, &calls, &events
}

func TestNCCLReduceAndBroadcastCalls(t *testing.T) {
	c, calls, events := fakeNCCL(t, 2, "")
	rows := [][]DevPtr{{0x1000, 0x2000}, {0x1100, 0x2100}}
	counts := []int{10, 3}
	if err := c.ReduceSum(rows, counts); err != nil {
		t.Fatal(err)
	}
	want := []ncclCall{
		{op: "reduce", send: 0x1000, recv: 0x1000, count: 10, comm: 500, stream: 100},
		{op: "reduce", send: 0x1100, recv: 0x1100, count: 3, comm: 500, stream: 100},
		{op: "reduce", send: 0x2000, recv: 0x2000, count: 10, comm: 501, stream: 101},
		{op: "reduce", send: 0x2100, recv: 0x2100, count: 3, comm: 501, stream: 101},
	}
	for i := range want {
		want[i].dtype, want[i].redOp, want[i].insideGroupDepth = ncclFloat32, ncclSum, 1
	}
	checkCalls(t, "reduce", *calls, want)
	*calls = nil
	if err := c.Broadcast(rows, counts); err != nil {
		t.Fatal(err)
	}
	want = []ncclCall{
		{op: "broadcast", send: 0x1000, recv: 0x1000, count: 10, comm: 500, stream: 100},
		{op: "broadcast", send: 0x1100, recv: 0x1100, count: 3, comm: 500, stream: 100},
		{op: "broadcast", send: 0x1000, recv: 0x2000, count: 10, comm: 501, stream: 101},
		{op: "broadcast", send: 0x1100, recv: 0x2100, count: 3, comm: 501, stream: 101},
	}
	for i := range want {
		want[i].dtype, want[i].insideGroupDepth = ncclFloat32, 1
	}
	checkCalls(t, "broadcast", *calls, want)
	if got := strings.Join(*events, " "); got != "start end start end" {
		t.Errorf("group calls %q, want one group per collective", got)
	}
	if c.String() != "NCCL 2.27.3" {
		t.Errorf("String() = %q", c.String())
	}
}

func checkCalls(t *testing.T, what string, got, want []ncclCall) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d calls %+v, want %d", what, len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s call %d = %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

func TestNCCLErrorsNameRankAndTensor(t *testing.T) {
	c, _, events := fakeNCCL(t, 2, "reduce rank-comm 501 tensor-count 3")
	err := c.ReduceSum([][]DevPtr{{1, 2}, {3, 4}}, []int{10, 3})
	if err == nil || !strings.Contains(err.Error(), "rank 1 (cuda:1): tensor 1: ncclReduce: nccl result 3") {
		t.Fatalf("err = %v, want the failing rank, tensor and call", err)
	}
	if got := strings.Join(*events, " "); got != "start end" {
		t.Errorf("group calls %q: the group must still be closed after a failed call", got)
	}
	if err := c.ReduceSum([][]DevPtr{{1}}, []int{4}); err == nil || !strings.Contains(err.Error(), "1 buffers for 2 ranks") {
		t.Errorf("a row short of a rank: err = %v", err)
	}
}
