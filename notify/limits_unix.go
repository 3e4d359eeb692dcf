//go:build unix

package notify

import "syscall"

// DefaultMaxStreams is the stream cap of a node when none is configured:
// the process's open-file limit (Go raises the soft limit to the hard one
// at start) less a reserve of a tenth, at least 256, for the database
// pool, the API's requests, /healthz and files. 0 when the limit cannot be
// read or is too small to leave a reserve: no cap.
func DefaultMaxStreams() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return streamsWithin(lim.Cur)
}
