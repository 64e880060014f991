// Package bricktest builds in-process bricks for the tests of the layers
// that sit above bricks (distribute, replicate, rebalance): storage/posix
// in a temporary directory under features/locks, as a brick graph stacks
// them, without processes or network.
package bricktest

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/gluster-go/gluster-go/internal/fop"
	"github.com/gluster-go/gluster-go/internal/locks"
	"github.com/gluster-go/gluster-go/internal/posix"
)

// Stack builds brick i's layers over its posix layer p in directory dir.
type Stack func(i int, dir string, p fop.Layer) (fop.Layer, error)

// Locked is the default Stack: features/locks over posix.
func Locked(_ int, _ string, p fop.Layer) (fop.Layer, error) { return locks.NewLayer(p), nil }

// Bricks makes n bricks in temporary directories, stacked by stack (nil
// for Locked), and returns them with their subvolume names
// (PREFIX-client-N, as volgen names them) and directories.
func Bricks(t testing.TB, n int, prefix string, stack Stack) (bricks []fop.Layer, names, dirs []string) {
	t.Helper()
	if stack == nil {
		stack = Locked
	}
	for i := 0; i < n; i++ {
		dir := t.TempDir()
		p, err := posix.OpenBrick(dir, nil, 64, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		top, err := stack(i, dir, p)
		if err != nil {
			t.Fatal(err)
		}
		bricks = append(bricks, top)
		names = append(names, fmt.Sprintf("%s-client-%d", prefix, i))
		dirs = append(dirs, dir)
	}
	return bricks, names, dirs
}
