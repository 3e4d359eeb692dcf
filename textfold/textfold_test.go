package textfold

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"MÜHƏNDİS", "muhendis"},
		{"mühəndis", "muhendis"},
		{"muhendis", "muhendis"},
		{"Bakı", "baki"},
		{"BAKI", "baki"},
		{"İSTANBUL", "istanbul"},
		{"ıspanak", "ispanak"},
		{"Şəki Çay Ağacı", "seki cay agaci"},
		{"Gəncə", "gence"},
		{"Sumqayıt", "sumqayit"},
		{"ÖĞRETMEN", "ogretmen"},
		{"Ünvan", "unvan"},
		{"Программист 1С", "программист 1с"},
		{"Ёлка ЁЖИК", "елка ежик"},
		{"Майский", "майский"}, // й is kept
		{"Café Résumé", "cafe resume"},
		{"Straße", "strasse"},
		{"ﬁnance", "finance"},
		{"Ｊava", "java"},
		{"soft\u00adware", "software"},
		{"zero\u200bwidth", "zerowidth"},
		{"e\u0301cole", "ecole"}, // decomposed input
		{"Мүһәндис", "муxендис"[:0] + "мухендис"},
		{"C++ / C# Developer", "c++ / c# developer"},
		{"bad\xffutf8", "badutf8"},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFold_AllFormsOfI(t *testing.T) {
	for _, s := range []string{"I", "i", "İ", "ı"} {
		if got := Fold(s); got != "i" {
			t.Errorf("Fold(%q) = %q, want i", s, got)
		}
	}
}

func TestTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Senior Golang Developer (Bakı)", []string{"senior", "golang", "developer", "baki"}},
		{"C++/C# and .NET, node.js", []string{"c++", "c#", "and", "net", "node", "js"}},
		{"Full-time, 2000 AZN", []string{"full", "time", "2000", "azn"}},
		{"Ведущий инженер-программист", []string{"ведущии"[:0] + "ведущий", "инженер", "программист"}},
		{"  ", nil},
		{"+#", nil},
		{"F#", []string{"f#"}},
		{"Baş mühasib — «Azəri»", []string{"bas", "muhasib", "azeri"}},
	}
	for _, tt := range tests {
		if got := Tokens(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzFold checks that folding is idempotent, yields valid UTF-8, and that
// tokens are stable under a second fold.
func FuzzFold(f *testing.F) {
	for _, s := range []string{"MÜHƏNDİS", "Ёлка", "C++", "ı\u0307", "\xff", "ǅ", "ﬃ", "и\u0306", "A\u030a", "Ǆ\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a := Fold(s)
		if !utf8.ValidString(a) {
			t.Fatalf("Fold(%q) = %q: invalid UTF-8", s, a)
		}
		if b := Fold(a); b != a {
			t.Fatalf("Fold not idempotent: %q → %q → %q", s, a, b)
		}
		if utf8.ValidString(s) {
			// The fast path that skips normalising must agree with it.
			if b := Fold(norm.NFKC.String(s)); b != a {
				t.Fatalf("Fold(%q) = %q but Fold(NFKC) = %q", s, a, b)
			}
		}
		for _, tok := range Tokens(s) {
			if tok == "" || strings.ContainsAny(tok, " \t\n") {
				t.Fatalf("bad token %q from %q", tok, s)
			}
		}
	})
}

func BenchmarkFold(b *testing.B) {
	s := strings.Repeat("Bakıda yerləşən şirkətə Baş Mühəndis tələb olunur. Требуется ведущий инженер. ", 10)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Tokens(s)
	}
}
