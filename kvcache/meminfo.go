package kvcache

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// DefaultRAMShare is the fraction of available memory a pool takes when its
// size is not given.
const DefaultRAMShare = 0.4

// MemAvailable returns the MemAvailable figure of /proc/meminfo in bytes.
func MemAvailable() (int64, error) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("kvcache: %w", err)
	}
	return parseMemAvailable(data)
}

// parseMemAvailable extracts MemAvailable (in kB) from meminfo text.
func parseMemAvailable(data []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) >= 2 && string(f[0]) == "MemAvailable:" {
			kb, err := strconv.ParseInt(string(f[1]), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("kvcache: MemAvailable: %w", err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("kvcache: no MemAvailable in meminfo")
}
