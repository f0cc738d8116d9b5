package main

import (
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
)

// servePprof serves Go's profiler for measuring devdb's per-command cost
// (go tool pprof http://ADDR/debug/pprof/profile?seconds=10). Loopback only.
func servePprof(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || (host != "127.0.0.1" && host != "localhost" && host != "::1") {
		return usageError{fmt.Sprintf("pprof address must be on loopback (127.0.0.1:PORT), got %q", addr)}
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() { _ = http.Serve(l, nil) }()
	return nil
}
