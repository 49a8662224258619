package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch/supervision"
)

// TestSlowClientsAreCut: a connection that sends nothing, a POST whose body never comes and
// an idle keep-alive are each closed by the server within its configured timeouts (0.3 s
// here; the check allows 5 s, where the server used to keep them open indefinitely).
func TestSlowClientsAreCut(t *testing.T) {
	const timeout = 300 * time.Millisecond
	api, err := supervision.New(supervision.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(api, HTTPTimeouts{Read: timeout, Write: time.Second, Idle: timeout})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	// closedWithin reads until the server closes the connection, or fails at the bound.
	closedWithin := func(name string, c net.Conn, r io.Reader) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := io.Copy(io.Discard, r)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("%s: the connection is still open after 5 s, want it closed after about %v", name, timeout)
		}
	}
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	silent := dial()
	closedWithin("a connection that sends nothing", silent, silent)

	noBody := dial()
	io.WriteString(noBody, "POST /api/v1/alerts/bulk HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nobody\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	closedWithin("a POST whose body never comes", noBody, noBody)

	idle := dial()
	io.WriteString(idle, "GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("keep-alive: first request: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Close {
		t.Fatalf("keep-alive: got %d (close %v), want 401 on a connection kept open", resp.StatusCode, resp.Close)
	}
	closedWithin("an idle keep-alive", idle, br)
}
