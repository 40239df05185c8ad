//go:build !unix

package storage

import "io/fs"

// inode is 0 where the platform has none to offer; size and mtime remain.
func inode(fs.FileInfo) uint64 { return 0 }
