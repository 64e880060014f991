package mgmt

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
)

// inodeSize is the "Inode Size" of volume status detail: what GlusterFS
// gets from tune2fs -l (ext3/4) or xfs_info (xfs), read here from the
// file system's superblock on device; "N/A" for btrfs and zfs, whose
// inodes have no fixed size, and "" (shown N/A) when it cannot be read,
// as GlusterFS when its tool fails.
func inodeSize(device, fsType string) string {
	switch fsType {
	case "btrfs", "zfs":
		return "N/A"
	case "ext2", "ext3", "ext4", "xfs":
	default:
		return ""
	}
	n, err := superblockInodeSize(device, fsType)
	if err != nil {
		return ""
	}
	return strconv.Itoa(n)
}

// superblockInodeSize reads the inode size from an ext2/3/4 or xfs
// superblock.
func superblockInodeSize(device, fsType string) (int, error) {
	f, err := os.Open(device)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if fsType == "xfs" {
		// xfs_sb: magic "XFSB" at 0, sb_inodesize (big endian) at 104.
		sb := make([]byte, 106)
		if _, err := f.ReadAt(sb, 0); err != nil {
			return 0, fmt.Errorf("inode size %s: %w", device, err)
		}
		if string(sb[:4]) != "XFSB" {
			return 0, fmt.Errorf("inode size %s: no xfs superblock", device)
		}
		return int(binary.BigEndian.Uint16(sb[104:])), nil
	}
	// ext2_super_block at 1024: s_magic 0xEF53 at 56, s_rev_level at 76,
	// s_inode_size at 88 (revision 0 file systems have 128-byte inodes).
	sb := make([]byte, 90)
	if _, err := f.ReadAt(sb, 1024); err != nil {
		return 0, fmt.Errorf("inode size %s: %w", device, err)
	}
	if binary.LittleEndian.Uint16(sb[56:]) != 0xEF53 {
		return 0, fmt.Errorf("inode size %s: no ext superblock", device)
	}
	if binary.LittleEndian.Uint32(sb[76:]) == 0 {
		return 128, nil
	}
	return int(binary.LittleEndian.Uint16(sb[88:])), nil
}
