package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/gluster-go/gluster-go/internal/mgmt/api"
	"github.com/gluster-go/gluster-go/internal/mgmt/store"
)

// Column widths of "volume status", from GlusterFS's cli.h.
const (
	statusBrickLen = 43
	statusLineLen  = 78
)

// isArbiter reports whether brick i is its replica set's arbiter (the last).
func isArbiter(v *store.Volume, i int) bool {
	return v.ArbiterCount > 0 && (i+1)%v.ReplicaCount == 0
}

func printInfo(w io.Writer, v *store.Volume) {
	fmt.Fprintln(w, " ")
	fmt.Fprintf(w, "Volume Name: %s\n", v.Name)
	fmt.Fprintf(w, "Type: %s\n", v.TypeName())
	fmt.Fprintf(w, "Volume ID: %s\n", v.ID)
	fmt.Fprintf(w, "Status: %s\n", v.Status)
	fmt.Fprintf(w, "Snapshot Count: 0\n")
	fmt.Fprintf(w, "Number of Bricks: %s\n", v.BrickCountString())
	fmt.Fprintf(w, "Transport-type: %s\n", v.Transport)
	fmt.Fprintln(w, "Bricks:")
	for i, b := range v.Bricks {
		arb := ""
		if isArbiter(v, i) {
			arb = " (arbiter)"
		}
		fmt.Fprintf(w, "Brick%d: %s%s\n", i+1, b.Name(), arb)
	}
	if len(v.Options) > 0 {
		fmt.Fprintln(w, "Options Reconfigured:")
		for _, o := range v.Options {
			fmt.Fprintf(w, "%s: %s\n", o.Key, o.Value)
		}
	}
}

func printStatus(w io.Writer, v api.VolumeStatus, detail bool) {
	line := strings.Repeat("-", statusLineLen)
	fmt.Fprintf(w, "Status of volume: %s\n", v.Name)
	if !detail {
		fmt.Fprintf(w, "%-*s %s  %s  %s  %s\n", statusBrickLen, "Gluster process", "TCP Port", "RDMA Port", "Online", "Pid")
		fmt.Fprintln(w, line)
	}
	for _, b := range v.Bricks {
		name := "Brick " + b.Host + ":" + b.Path
		if b.Host == api.SelfHealDaemon {
			name = b.Host + " on " + b.Path
		}
		pid := "N/A"
		if b.Pid > 0 {
			pid = fmt.Sprint(b.Pid)
		}
		online := 'N'
		if b.Online {
			online = 'Y'
		}
		if detail {
			fmt.Fprintln(w, line)
			printDetail(w, name, b, pid, online)
			continue
		}
		// Long names wrap at the column width, as GlusterFS prints them.
		for len(name) > statusBrickLen {
			fmt.Fprintln(w, name[:statusBrickLen])
			name = name[statusBrickLen:]
		}
		if b.Online && b.Port > 0 {
			fmt.Fprintf(w, "%-*s %-10d%-11d%-8c%-5s\n", statusBrickLen, name, b.Port, 0, online, pid)
		} else {
			fmt.Fprintf(w, "%-*s %-10s%-11s%-8c%-5s\n", statusBrickLen, name, "N/A", "N/A", online, pid)
		}
	}
	fmt.Fprintln(w, " ")
	if !detail {
		fmt.Fprintf(w, "Task Status of Volume %s\n", v.Name)
		fmt.Fprintln(w, line)
		fmt.Fprintln(w, "There are no active volume tasks")
		fmt.Fprintln(w, " ")
	}
}

func printDetail(w io.Writer, name string, b api.BrickStatus, pid string, online rune) {
	field := func(k string, v any) { fmt.Fprintf(w, "%-20s : %-20v\n", k, v) }
	orNA := func(s string) string {
		if s == "" {
			return "N/A"
		}
		return s
	}
	field("Brick", name)
	if b.Online {
		field("TCP Port", b.Port)
		field("RDMA Port", 0)
	} else {
		field("TCP Port", "N/A")
		field("RDMA Port", "N/A")
	}
	field("Online", string(online))
	field("Pid", pid)
	field("File System", orNA(b.FileSystem))
	field("Device", orNA(b.Device))
	field("Mount Options", orNA(b.MountOptions))
	field("Inode Size", orNA(b.InodeSize))
	if b.Total > 0 {
		field("Disk Space Free", humanSize(b.Free))
		field("Total Disk Space", humanSize(b.Total))
	} else {
		field("Disk Space Free", "N/A")
		field("Total Disk Space", "N/A")
	}
	if b.Inodes > 0 {
		field("Inode Count", b.Inodes)
		field("Free Inodes", b.FreeInodes)
	} else {
		field("Inode Count", "N/A")
		field("Free Inodes", "N/A")
	}
}

// humanSize formats bytes as GlusterFS's gf_uint64_2human_readable.
func humanSize(n uint64) string {
	units := []string{"Bytes", "KB", "MB", "GB", "TB", "PB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%dBytes", n)
	}
	return fmt.Sprintf("%.1f%s", f, units[i])
}

// GlusterFS's numeric volume type and status, for --xml.
func typeCode(v *store.Volume) int {
	switch {
	case v.DisperseCount > 0:
		return 4
	case v.StripeCount > 1 && v.ReplicaCount > 1:
		return 3
	case v.ReplicaCount > 1:
		return 2
	case v.StripeCount > 1:
		return 1
	}
	return 0
}

func statusCode(s string) int {
	switch s {
	case store.StatusStarted:
		return 1
	case store.StatusStopped:
		return 2
	}
	return 0
}

func (s *session) xmlInfo(vols []*store.Volume) {
	s.xmlResult(0, 0, "", func(x *xmlWriter) {
		x.open("volInfo")
		x.open("volumes")
		for _, v := range vols {
			x.open("volume")
			x.leaf("name", v.Name)
			x.leaf("id", v.ID)
			x.leaf("status", statusCode(v.Status))
			x.leaf("statusStr", v.Status)
			x.leaf("snapshotCount", 0)
			x.leaf("brickCount", len(v.Bricks))
			x.leaf("distCount", v.SubvolCount())
			x.leaf("replicaCount", v.ReplicaCount)
			x.leaf("arbiterCount", v.ArbiterCount)
			x.leaf("disperseCount", v.DisperseCount)
			x.leaf("redundancyCount", v.RedundancyCount)
			x.leaf("type", typeCode(v))
			x.leaf("typeStr", v.TypeName())
			x.leaf("transport", 0)
			x.open("bricks")
			for i, b := range v.Bricks {
				x.indent()
				fmt.Fprintf(&x.b, "<brick uuid=\"%s\">%s<name>%s</name><hostUuid>%s</hostUuid><isArbiter>%d</isArbiter></brick>\n",
					b.PeerID, b.Name(), b.Name(), b.PeerID, map[bool]int{false: 0, true: 1}[isArbiter(v, i)])
			}
			x.close("bricks")
			x.leaf("optCount", len(v.Options))
			x.open("options")
			for _, o := range v.Options {
				x.open("option")
				x.leaf("name", o.Key)
				x.leaf("value", o.Value)
				x.close("option")
			}
			x.close("options")
			x.close("volume")
		}
		x.leaf("count", len(vols))
		x.close("volumes")
		x.close("volInfo")
	})
}

func (s *session) xmlStatus(vols []api.VolumeStatus, detail bool) {
	s.xmlResult(0, 0, "", func(x *xmlWriter) {
		x.open("volStatus")
		x.open("volumes")
		for _, v := range vols {
			x.open("volume")
			x.leaf("volName", v.Name)
			x.leaf("nodeCount", len(v.Bricks))
			for _, b := range v.Bricks {
				x.open("node")
				x.leaf("hostname", b.Host)
				x.leaf("path", b.Path)
				x.leaf("peerid", b.PeerID)
				online, port := 0, "N/A"
				if b.Online {
					online = 1
				}
				if b.Online && b.Port > 0 {
					port = fmt.Sprint(b.Port)
				}
				x.leaf("status", online)
				x.leaf("port", port)
				x.open("ports")
				x.leaf("tcp", port)
				x.leaf("rdma", "N/A")
				x.close("ports")
				x.leaf("pid", b.Pid)
				if detail {
					x.leaf("sizeTotal", b.Total)
					x.leaf("sizeFree", b.Free)
					x.leaf("device", b.Device)
					x.leaf("blockSize", b.BlockSize)
					x.leaf("mntOptions", b.MountOptions)
					x.leaf("fsName", b.FileSystem)
					x.leaf("inodeSize", b.InodeSize)
					x.leaf("inodesTotal", b.Inodes)
					x.leaf("inodesFree", b.FreeInodes)
				}
				x.close("node")
			}
			x.open("tasks")
			x.close("tasks")
			x.close("volume")
		}
		x.close("volumes")
		x.close("volStatus")
	})
}
