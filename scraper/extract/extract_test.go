package extract

import (
	"strings"
	"testing"
	"time"
)

// fixedNow is the "now" relative dates are read against.
var fixedNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func TestDecodeBody(t *testing.T) {
	cp1251 := []byte{0xc2, 0xe0, 0xea, 0xe0, 0xed, 0xf1, 0xe8, 0xff} // "Вакансия"
	long := append([]byte("<html><head><script>"+strings.Repeat("var x = 1;\n", 200)+"</script><meta charset=\"windows-1251\"></head><body>"), cp1251...)
	tests := []struct {
		name, ct string
		body     []byte
		want     string
	}{
		{"meta late in the head", "text/html", long, "Вакансия"},
		{"utf-8 bom", "text/html", append([]byte("\ufeff<p>"), "Bakı"...), "<p>Bakı"},
		{"valid utf-8 without any declaration", "", []byte("<p>Şəki</p>"), "<p>Şəki</p>"},
		{"latin-1 without declaration", "text/html", []byte{'C', 'a', 'f', 0xe9}, "Café"},
		{"header charset: colly already converted", "text/html; charset=windows-1251", []byte("Вакансия"), "Вакансия"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecodeBody(tt.body, tt.ct); !strings.HasSuffix(got, tt.want) && !strings.Contains(got, tt.want) {
				t.Errorf("DecodeBody = %q, want it to contain %q", clip(got, 80), tt.want)
			}
		})
	}
}
