// Package netguard decides which IP addresses birjob may connect to on a
// user's or an admin's behalf (a scrape source, a Web Push endpoint): only
// globally reachable unicast addresses, unless private addresses are
// allowed (tests, the demo board).
//
// The check runs on the address actually dialled, after DNS resolution
// (net.Dialer.Control), so it also covers redirects and DNS rebinding.
//
// # What is refused
//
// Every block of the IANA IPv4 and IPv6 special-purpose address registries
// that is not globally reachable, and every IPv6 form that embeds an IPv4
// address a gateway would translate (NAT64, 6to4, Teredo, IPv4-compatible,
// IPv4-mapped after unmapping): the embedded address could be a private
// one, and no job board is reached only that way. The table is Blocked.
package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrForbidden is returned for an address that must not be dialled.
var ErrForbidden = errors.New("refusing to connect to a private, loopback or reserved address")

// Blocked lists the refused ranges, each with the reason a person reads in
// the error.
var Blocked = []struct {
	Prefix netip.Prefix
	Why    string
}{
	// IPv4 (RFC 6890 and its updates).
	{netip.MustParsePrefix("0.0.0.0/8"), "this network"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (and broadcast)"},
	// IPv6 (RFC 6890, RFC 8190 and later).
	{netip.MustParsePrefix("::/96"), "unspecified, loopback or IPv4-compatible"},
	{netip.MustParsePrefix("::ffff:0:0/96"), "IPv4-mapped"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64"},
	{netip.MustParsePrefix("100::/64"), "discard-only"},
	{netip.MustParsePrefix("2001::/23"), "IETF protocol assignments (Teredo, benchmarking, ORCHID)"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("2002::/16"), "6to4"},
	{netip.MustParsePrefix("3fff::/20"), "documentation"},
	{netip.MustParsePrefix("5f00::/16"), "segment routing"},
	{netip.MustParsePrefix("fc00::/7"), "unique local (private)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "site-local"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// Why returns why ip may not be dialled, or "" when it is a globally
// reachable unicast address. An IPv4-mapped IPv6 address is judged as the
// IPv4 address it carries.
func Why(ip netip.Addr) string {
	if !ip.IsValid() {
		return "not an IP address"
	}
	ip = ip.Unmap().WithZone("")
	for _, b := range Blocked {
		if b.Prefix.Contains(ip) {
			return b.Why
		}
	}
	return ""
}

// Public reports whether ip is a globally reachable unicast address.
func Public(ip netip.Addr) bool { return Why(ip) == "" }

// Control is a net.Dialer.Control that refuses every address but public
// ones, with an error wrapping ErrForbidden that names the range.
func Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbidden, address)
	}
	if why := Why(ap.Addr()); why != "" {
		return fmt.Errorf("%w: %s is %s (set BIRJOB_ALLOW_PRIVATE=true to allow it)", ErrForbidden, ap.Addr(), why)
	}
	return nil
}
