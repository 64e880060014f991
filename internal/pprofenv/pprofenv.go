// Package pprofenv serves Go's profiling endpoints (/debug/pprof/) when the
// environment variable GLUSTER_GO_PPROF names an address to listen on, so
// that the brick and client processes can be profiled in place:
//
//	GLUSTER_GO_PPROF=127.0.0.1:6060 glusterfsd ...
//	go tool pprof http://127.0.0.1:6060/debug/pprof/profile?seconds=10
//
// It is off unless the variable is set.
package pprofenv

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

// Var is the environment variable holding the listen address.
const Var = "GLUSTER_GO_PPROF"

// Start serves the profiling endpoints in the background if Var is set.
// A bad address is logged, not fatal: profiling is a diagnosis aid.
func Start(log *slog.Logger) {
	addr := os.Getenv(Var)
	if addr == "" {
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Warn("pprof: cannot listen", "addr", addr, "err", err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Info("pprof: serving", "addr", ln.Addr().String())
	go func() { _ = http.Serve(ln, mux) }()
}
