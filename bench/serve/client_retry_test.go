package serve

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
)

// closingServer answers the first request on each connection and closes
// the connection, unanswered, when a second request arrives on it: a
// keep-alive connection the server dropped just as the client reused it.
func closingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go answerOnce(conn)
		}
	}()
	return "http://" + ln.Addr().String()
}

func answerOnce(conn net.Conn) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	io.Copy(io.Discard, req.Body)
	body := `{"choices":[{"text":"a"}],"usage":{"prompt_tokens":2,"completion_tokens":1}}`
	fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	http.ReadRequest(br) // the reused connection's request: dropped
}

func TestSendResendsOnDroppedKeepAlive(t *testing.T) {
	c := NewClient(Target{URL: closingServer(t), Model: "m"}, nil)
	for i := range 3 {
		m := c.Send(context.Background(), Prompt{Tokens: []int32{5, 6}, OutputLen: 1})
		if !m.OK() {
			t.Fatalf("request %d: %s", i, m.Err)
		}
		if m.OutputTokens != 1 || m.PromptTokens != 2 {
			t.Fatalf("request %d: tokens %d in, %d out, want 2, 1", i, m.PromptTokens, m.OutputTokens)
		}
	}
}
