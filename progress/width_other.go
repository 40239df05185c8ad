//go:build !unix

package progress

import "io"

// termWidth is unknown off unix: bar lines are not cut.
func termWidth(io.Writer) int { return 0 }
