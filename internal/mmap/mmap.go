// Package mmap maps files read-only into memory so that model weights are
// read in place instead of being copied into the Go heap.
package mmap

import (
	"fmt"
	"os"
)

// File is a read-only memory-mapped file.
type File struct {
	data []byte
	name string
}

// Open maps the whole file at path. An empty file maps to an empty slice.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("mmap %s: is a directory", path)
	}
	data, err := mapFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("mmap %s: %w", path, err)
	}
	return &File{data: data, name: path}, nil
}

// Bytes returns the mapped contents. They stay valid until Close.
func (f *File) Bytes() []byte { return f.data }

// Name returns the path the file was opened with.
func (f *File) Name() string { return f.name }

// Close unmaps the file.
func (f *File) Close() error {
	if f.data == nil {
		return nil
	}
	err := unmap(f.data)
	f.data = nil
	return err
}
