package main
import (
 _ "github.com/hanwen/go-fuse/v2/fuse"
 _ "github.com/hashicorp/raft"
 _ "github.com/hashicorp/raft-boltdb/v2"
 _ "github.com/spf13/cobra"
 _ "github.com/prometheus/client_golang/prometheus"
 _ "golang.org/x/sys/unix"
 _ "github.com/google/uuid"
)
func main(){}
