// Package e2e holds end-to-end tests of the data path: real glusterfsd and
// glusterfs processes, real FUSE mounts, checked with the POSIX conformance
// suite (test/posixtest). They need root.
package e2e

import (
	"testing"

	"github.com/gluster-go/gluster-go/test/posixtest"
)

// TestMain lets posixtest re-execute this binary as other users.
func TestMain(m *testing.M) { posixtest.Main(m) }
