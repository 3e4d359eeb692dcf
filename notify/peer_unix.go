//go:build unix

package notify

import (
	"net"
	"syscall"
)

// peerClosed reports, without blocking, whether the peer of conn has
// closed it (or reset it). Nothing reads a hijacked SSE connection after
// its request, so the check reads it: one non-blocking recv on the
// socket, which answers EAGAIN for a live, silent peer (the normal case,
// one system call), 0 bytes at end of stream, or an error after a reset.
// Bytes a client sent after its request (none, from a browser) are
// discarded. A TLS connection is checked on its socket (NetConn): the
// records the client sends are never read, so discarding them harms
// nothing. A connection that is not a socket counts as open: its dead
// peer is found by a failed write, as before.
func peerClosed(conn net.Conn) bool {
	if nc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		conn = nc.NetConn()
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true // closed already
	}
	gone := false
	err = rc.Control(func(fd uintptr) {
		var buf [512]byte
		for range 16 { // at most 8 KB discarded per visit
			n, err := syscall.Read(int(fd), buf[:])
			switch {
			case err == syscall.EAGAIN, err == syscall.EINTR:
				return
			case err != nil, n == 0:
				gone = true
				return
			}
		}
	})
	return gone || err != nil
}
