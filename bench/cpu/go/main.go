// Go's runtime/pprof on the same 3:1 workload: T goroutines for D seconds
// at rate hz. Usage: cpuwork T D hz out.pprof
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const unit = 20000

var sink uint64

//go:noinline
func cpuHeavyThree(units uint64) uint64 {
	x := sink | 1
	for i := uint64(0); i < 3*units*unit; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	sink = x
	return x
}

//go:noinline
func cpuLightOne(units uint64) uint64 {
	x := sink | 3
	for i := uint64(0); i < units*unit; i++ {
		x = x*2862933555777941757 + 3037000493
	}
	sink = x
	return x
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func main() {
	n, _ := strconv.Atoi(os.Args[1])
	secs, _ := strconv.ParseFloat(os.Args[2], 64)
	hz, _ := strconv.Atoi(os.Args[3])
	f, err := os.Create(os.Args[4])
	if err != nil {
		panic(err)
	}
	runtime.SetCPUProfileRate(hz) // before StartCPUProfile, which then keeps it
	if err := pprof.StartCPUProfile(f); err != nil {
		panic(err)
	}
	var stop int32
	var units uint64
	var wg sync.WaitGroup
	c0, w0 := cpuSeconds(), time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var u uint64
			for atomic.LoadInt32(&stop) == 0 {
				cpuHeavyThree(1)
				cpuLightOne(1)
				u += 4
			}
			atomic.AddUint64(&units, u)
		}()
	}
	time.Sleep(time.Duration(secs * float64(time.Second)))
	atomic.StoreInt32(&stop, 1)
	c1, w1 := cpuSeconds(), time.Since(w0)
	wg.Wait()
	pprof.StopCPUProfile()
	f.Close()
	fmt.Printf("units=%d cpu=%.4f wall=%.4f\n", units, c1-c0, w1.Seconds())
}
