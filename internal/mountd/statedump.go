package mountd

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/gluster-go/gluster-go/internal/fuse"
	"github.com/gluster-go/gluster-go/internal/volfetch"
)

// DefaultDumpDir is where SIGUSR1 state dumps go, as GlusterFS's
// `gluster --print-statedumpdir` says.
const DefaultDumpDir = "/var/run/gluster"

// statedump writes GlusterFS-style glusterdump.PID.dump.TIME with what the
// client knows: the mount, the volfile it runs, the bridge's tables.
func statedump(dir, mnt, fsName string, vf *volfetch.Volfile, st fuse.Stats, log *slog.Logger) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Warn("statedump", "err", err)
		return
	}
	now := time.Now()
	name := filepath.Join(dir, fmt.Sprintf("glusterdump.%d.dump.%d", os.Getpid(), now.Unix()))
	text := fmt.Sprintf("DUMP-START-TIME: %s\n\n[mount]\nmountpoint=%s\nsource=%s\nvolfile-version=%s\n\n"+
		"[fuse]\ninodes=%d\nopen-files=%d\nopen-dirs=%d\n\n[graph as mounted]\n%s\nDUMP-END-TIME: %s\n",
		now.UTC().Format(time.RFC3339Nano), mnt, fsName, vf.Version,
		st.Inodes, st.OpenFiles, st.OpenDirs, vf.File.String(), time.Now().UTC().Format(time.RFC3339Nano))
	// Readers see the whole dump or none.
	tmp := filepath.Join(dir, "."+filepath.Base(name)+".tmp")
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		log.Warn("statedump", "err", err)
		return
	}
	if err := os.Rename(tmp, name); err != nil {
		log.Warn("statedump", "err", err)
		return
	}
	log.Info("statedump written", "file", name)
}
