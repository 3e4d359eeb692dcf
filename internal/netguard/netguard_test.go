package netguard

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestWhy_AddressTable(t *testing.T) {
	for _, c := range []struct {
		addr   string
		public bool
	}{
		// public
		{"1.1.1.1", true},
		{"8.8.8.8", true},
		{"93.184.216.34", true},
		{"100.63.255.255", true}, // just below carrier-grade NAT
		{"100.128.0.0", true},    // just above it
		{"198.17.255.255", true}, // just below benchmarking
		{"198.20.0.0", true},     // just above it
		{"223.255.255.255", true},
		{"2606:4700:4700::1111", true},
		{"2a00:1450:4001:82b::200e", true},
		{"2003::1", true}, // just above 6to4
		{"2001:200::1", true},
		{"::ffff:8.8.8.8", true}, // mapped public IPv4 is that IPv4
		// refused
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"10.1.2.3", false},
		{"100.64.0.1", false},
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"169.254.169.254", false}, // cloud metadata
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.0.0.8", false},
		{"192.0.2.1", false},
		{"192.88.99.1", false},
		{"192.168.1.1", false},
		{"198.18.0.1", false},
		{"198.19.255.255", false},
		{"198.51.100.7", false},
		{"203.0.113.9", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"240.0.0.1", false},
		{"255.255.255.255", false},
		{"::", false},
		{"::1", false},
		{"::127.0.0.1", false},      // IPv4-compatible
		{"::ffff:127.0.0.1", false}, // IPv4-mapped loopback
		{"::ffff:10.0.0.1", false},
		{"64:ff9b::7f00:1", false},  // NAT64 of 127.0.0.1
		{"64:ff9b::808:808", false}, // NAT64 even of a public one
		{"64:ff9b:1::1", false},
		{"100::1", false},
		{"2001::1", false}, // Teredo
		{"2001:db8::1", false},
		{"2002:7f00:1::1", false}, // 6to4 of 127.0.0.1
		{"3fff::1", false},
		{"5f00::1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"fec0::1", false},
		{"ff02::1", false},
	} {
		ip := netip.MustParseAddr(c.addr)
		if got := Public(ip); got != c.public {
			t.Errorf("Public(%s) = %v, want %v (why: %q)", c.addr, got, c.public, Why(ip))
		}
	}
	if Public(netip.Addr{}) {
		t.Error("the zero Addr is public")
	}
}

func TestControl(t *testing.T) {
	if err := Control("tcp", "1.1.1.1:443", nil); err != nil {
		t.Fatalf("public address refused: %v", err)
	}
	err := Control("tcp6", "[64:ff9b::7f00:1]:80", nil)
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "NAT64") || !strings.Contains(err.Error(), "BIRJOB_ALLOW_PRIVATE") {
		t.Fatalf("NAT64 loopback: err = %v, want ErrForbidden naming NAT64 and the setting", err)
	}
	if err := Control("tcp", "not-an-address", nil); !errors.Is(err, ErrForbidden) {
		t.Fatalf("unparsable address: err = %v, want ErrForbidden", err)
	}
}
