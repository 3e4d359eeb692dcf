package courier

import (
	"testing"
	"time"
)

func TestNextDigest(t *testing.T) {
	now := time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		tz   string
		want time.Time
	}{
		{"Asia/Baku", time.Date(2026, 12, 5, 4, 0, 0, 0, time.UTC)},
		{"UTC", time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)},
		{"America/New_York", time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC)},
		{"Nowhere/Else", time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)},
	} {
		if got := nextDigest(now, c.tz, 8); !got.Equal(c.want) {
			t.Errorf("nextDigest(%s) = %s, want %s", c.tz, got.UTC(), c.want)
		}
	}
}
