//go:build !unix

package notify

// DefaultMaxStreams is 0 (no cap) where the open-file limit is not read.
func DefaultMaxStreams() int { return 0 }
