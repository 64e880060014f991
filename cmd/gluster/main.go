// Command gluster is the command line of a gluster-go pool; see
// internal/cli.
package main

import (
	"os"

	"github.com/gluster-go/gluster-go/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
