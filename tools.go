//go:build tools

// Package tools pins the modules the project depends on, so that go.mod
// lists them before every package that uses them exists.
package tools

import (
	_ "github.com/google/uuid"
	_ "github.com/hanwen/go-fuse/v2/fuse"
	_ "github.com/hashicorp/raft"
	_ "github.com/hashicorp/raft-boltdb/v2"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/spf13/cobra"
	_ "golang.org/x/sys/unix"
)
