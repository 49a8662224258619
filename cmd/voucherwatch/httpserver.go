package main

import (
	"net/http"
	"time"
)

// HTTPTimeouts bound what a client can hold: a connection that sends nothing, a request body
// that never comes, an answer read slowly, an idle keep-alive, and the work (queries) behind a
// request.
type HTTPTimeouts struct {
	Read, Write, Idle time.Duration
	// Request is the deadline of a request's work; Export that of the streaming export.
	Request, Export time.Duration
}

// maxHeaderWait is the longest a client may take to send its headers, when --http-read-timeout
// is longer.
const maxHeaderWait = 10 * time.Second

// newHTTPServer is the HTTP server of the engine, with its timeouts. A zero timeout is none,
// as in net/http: only an operator who asks for it gets a server that waits for ever.
func newHTTPServer(h http.Handler, t HTTPTimeouts) *http.Server {
	header := maxHeaderWait
	if t.Read > 0 && t.Read < header {
		header = t.Read
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: header,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    64 << 10,
	}
}
