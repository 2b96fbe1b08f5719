package kernels

import (
	"fmt"
	"sync"
	"testing"
)

// BenchmarkCopyBandwidth measures the machine's memory bandwidth with the
// runtime's SIMD copy over buffers far larger than the caches, split
// across 1 and 2 goroutines. The reported MB/s count the bytes moved
// (read plus written); it is the roofline that decode's bytes read per
// token are set against.
func BenchmarkCopyBandwidth(b *testing.B) {
	const size = 256 << 20
	src, dst := make([]byte, size), make([]byte, size)
	for i := range src {
		src[i] = byte(i)
	}
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			b.SetBytes(2 * size)
			part := size / threads
			for b.Loop() {
				var wg sync.WaitGroup
				for t := range threads {
					wg.Add(1)
					go func() {
						defer wg.Done()
						copy(dst[t*part:(t+1)*part], src[t*part:(t+1)*part])
					}()
				}
				wg.Wait()
			}
		})
	}
}
