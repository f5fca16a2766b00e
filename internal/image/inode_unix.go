//go:build unix

package image

import (
	"io/fs"
	"syscall"
)

type fileID struct{ dev, ino uint64 }

// inode identifies a file with more than one link, so a root filesystem's
// hard links are reported once with bytes and then as links.
func inode(fi fs.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Nlink < 2 {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true
}
