// Command glusterd is the management daemon of a gluster-go pool; see
// internal/mgmt.
package main

import (
	"os"

	"github.com/gluster-go/gluster-go/internal/mgmt"
)

func main() { os.Exit(mgmt.Main(os.Args[1:])) }
