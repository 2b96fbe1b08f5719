//go:build !unix

package mmap

import (
	"io"
	"os"
)

// On systems without mmap the file is read into memory.
func mapFile(f *os.File, size int64) ([]byte, error) {
	b := make([]byte, size)
	_, err := io.ReadFull(f, b)
	return b, err
}

func unmap([]byte) error { return nil }
