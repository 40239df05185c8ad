//go:build unix

package progress

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// termWidth is the column count of the terminal w writes to, read at each
// redraw so a resized window is followed; 0 when w is not a terminal.
func termWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}
