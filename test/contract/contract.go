// Package contract holds the hand-written volfiles of the data-path
// contract: a one-brick volume with nothing but what every brick and
// client needs. The e2e data-path tests and the benchmark's manual mode
// run bricks and clients from them without a glusterd (and so without
// internal/volgen, which they check against).
package contract

import "fmt"

// BrickVolfile is the brick graph: protocol/server -> debug/io-stats
// (named by the brick directory, which clients ask for) -> features/locks
// -> storage/posix, stamping volumeID on the brick root.
func BrickVolfile(vol, dir, volumeID string) string {
	return fmt.Sprintf(`volume %[1]s-posix
    type storage/posix
    option directory %[2]s
    option volume-id %[3]s
end-volume

volume %[1]s-locks
    type features/locks
    subvolumes %[1]s-posix
end-volume

volume %[2]s
    type debug/io-stats
    subvolumes %[1]s-locks
end-volume

volume %[1]s-server
    type protocol/server
    option transport-type tcp
    option auth.addr.%[2]s.allow *
    subvolumes %[2]s
end-volume
`, vol, dir, volumeID)
}

// ClientVolfile is the client graph of that volume: debug/io-stats named
// VOL over protocol/client, which connects to host:port directly (no
// portmapper).
func ClientVolfile(vol, host string, port int, brickDir string) string {
	return fmt.Sprintf(`volume %[1]s-client-0
    type protocol/client
    option remote-host %[2]s
    option remote-port %[3]d
    option remote-subvolume %[4]s
    option transport-type tcp
end-volume

volume %[1]s
    type debug/io-stats
    subvolumes %[1]s-client-0
end-volume
`, vol, host, port, brickDir)
}
