package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a strings.Builder safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestServeWithoutModelServesDemoOffline(t *testing.T) {
	offlineHub(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- serveCmd(ctx, []string{"--port", fmt.Sprint(port), "--threads", "1", "--kv-cache-size", "16"}, nil, logs)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, logs)
		}
	}()
	var ids []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/v1/models", port))
		if err != nil {
			continue
		}
		var list struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if err == nil && resp.StatusCode == http.StatusOK {
			for _, d := range list.Data {
				ids = append(ids, d.ID)
			}
			break
		}
	}
	if len(ids) != 1 || ids[0] != "stories260K" {
		t.Errorf("/v1/models lists %q, want [stories260K]; logs:\n%s", ids, logs)
	}
	if !strings.Contains(logs.String(), "using the built-in demo model stories260K") {
		t.Errorf("serve did not say it fell back to the demo; logs:\n%s", logs)
	}
}
