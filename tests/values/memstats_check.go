// memstats_check fetches /debug/vars from a C program running introspect and
// checks that "memstats" is Go's runtime.MemStats: every field present with
// Go's JSON type (decoded into runtime.MemStats itself), the arrays Go readers
// index at their full length, and the figures equal to the allocator's own
// (glibc's mallinfo2, exposed by the program as var "mallinfo2") and at least
// the program's own allocations (var "workload").
//
// Tolerances: mallinfo2 is read while the same /debug/vars reply is being
// rendered, just after memstats; the module's own buffers for the rest of the
// reply (tens of KiB) may come and go in between, so heap figures must agree
// within 1 MiB, against a workload heap of about 30 MiB.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"reflect"
	"runtime"
)

type vars struct {
	Memstats  runtime.MemStats `json:"memstats"`
	Mallinfo2 struct {
		Uordblks, Hblkhd, Arena, Fordblks uint64
	} `json:"mallinfo2"`
	Workload struct {
		Mallocs, Frees, Bytes, Live, Threads uint64
		ThreadStackBytes                     uint64 `json:"thread_stack_bytes"`
	} `json:"workload"`
}

var failed bool

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", a...)
	failed = true
}

func near(name string, got, want, tol uint64) {
	d := math.Abs(float64(got) - float64(want))
	if d > float64(tol) {
		fail("%s = %d, allocator says %d (|diff| %0.f > %d)", name, got, want, d, tol)
	} else {
		fmt.Printf("ok %s = %d (allocator %d)\n", name, got, want)
	}
}

func atLeast(name string, got, min uint64) {
	if got < min {
		fail("%s = %d, want >= %d", name, got, min)
	} else {
		fmt.Printf("ok %s = %d >= %d\n", name, got, min)
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: memstats_check URL")
		os.Exit(2)
	}
	resp, err := http.Get(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		fmt.Fprintln(os.Stderr, "fetch:", resp.Status, err)
		os.Exit(1)
	}

	// Go's types: a string where Go has a number, or a number for a bool, fails here.
	var v vars
	if err := json.Unmarshal(body, &v); err != nil {
		fmt.Fprintln(os.Stderr, "decode into runtime.MemStats:", err)
		os.Exit(1)
	}
	// Every field present (json.Unmarshal leaves missing ones zero, silently).
	var raw struct {
		Memstats map[string]json.RawMessage `json:"memstats"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		fmt.Fprintln(os.Stderr, "decode into a map:", err)
		os.Exit(1)
	}
	t := reflect.TypeOf(runtime.MemStats{})
	for i := 0; i < t.NumField(); i++ {
		if _, ok := raw.Memstats[t.Field(i).Name]; !ok {
			fail("memstats has no %s", t.Field(i).Name)
		}
	}
	fmt.Printf("ok all %d runtime.MemStats fields present\n", t.NumField())
	// Arrays at Go's length (json drops extra elements and zero-fills short ones silently).
	for _, k := range []string{"PauseNs", "PauseEnd", "BySize"} {
		var a []json.RawMessage
		if err := json.Unmarshal(raw.Memstats[k], &a); err != nil {
			fail("%s: %v", k, err)
			continue
		}
		want := reflect.ValueOf(v.Memstats).FieldByName(k).Len()
		if len(a) != want {
			fail("%s has %d elements, Go's has %d", k, len(a), want)
		}
	}
	for i, c := range v.Memstats.BySize {
		if i > 0 && c.Size <= v.Memstats.BySize[i-1].Size {
			fail("BySize[%d].Size = %d not increasing", i, c.Size)
		}
	}
	// The sampled estimate lives under its own name, not in HeapAlloc.
	for _, k := range []string{"SampledHeapAlloc", "HeapSamples", "SampledHeapAllocRelativeError", "rss_bytes"} {
		if _, ok := raw.Memstats[k]; !ok {
			fail("memstats has no %s", k)
		}
	}

	m, mi, w := v.Memstats, v.Mallinfo2, v.Workload
	const tol = 1 << 20
	near("HeapAlloc", m.HeapAlloc, mi.Uordblks+mi.Hblkhd, tol)
	near("Alloc", m.Alloc, mi.Uordblks+mi.Hblkhd, tol)
	near("HeapInuse", m.HeapInuse, mi.Uordblks+mi.Hblkhd, tol)
	near("HeapSys", m.HeapSys, mi.Arena+mi.Hblkhd, tol)
	near("HeapIdle", m.HeapIdle, mi.Fordblks, tol)
	if m.HeapIdle+m.HeapInuse != m.HeapSys {
		fail("HeapIdle + HeapInuse = %d != HeapSys %d", m.HeapIdle+m.HeapInuse, m.HeapSys)
	}
	if m.Sys != m.HeapSys+m.StackSys+m.BuckHashSys+m.OtherSys {
		fail("Sys %d != HeapSys + StackSys + BuckHashSys + OtherSys", m.Sys)
	}
	if m.BuckHashSys == 0 {
		fail("BuckHashSys = 0 while the heap sampler runs")
	}
	atLeast("HeapAlloc (workload's live bytes)", m.HeapAlloc, w.Bytes/2)
	atLeast("Mallocs", m.Mallocs, w.Mallocs)
	atLeast("Frees", m.Frees, w.Frees)
	atLeast("HeapObjects", m.HeapObjects, w.Live)
	if m.HeapObjects != m.Mallocs-m.Frees {
		fail("HeapObjects %d != Mallocs - Frees %d", m.HeapObjects, m.Mallocs-m.Frees)
	}
	atLeast("TotalAlloc", m.TotalAlloc, w.Bytes)
	// The module's own allocations (start-up, this reply) are counted too, but
	// they are small next to the workload's: 2x bounds an accounting error.
	if m.TotalAlloc > 2*w.Bytes {
		fail("TotalAlloc %d > 2 x the workload's %d", m.TotalAlloc, w.Bytes)
	}
	atLeast("StackSys", m.StackSys, w.Threads*w.ThreadStackBytes)
	if m.StackInuse == 0 || m.StackInuse > m.StackSys {
		fail("StackInuse %d not in (0, StackSys %d]", m.StackInuse, m.StackSys)
	}
	if m.NumGC != 0 || m.EnableGC || m.PauseTotalNs != 0 {
		fail("GC fields should be zero/false in C: NumGC %d EnableGC %v", m.NumGC, m.EnableGC)
	}
	if failed {
		os.Exit(1)
	}
	fmt.Println("memstats decodes as runtime.MemStats and matches the allocator")
}
