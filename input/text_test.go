package input

import (
	"strings"
	"testing"
)

func TestTextPolicy(t *testing.T) {
	family := "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466" // seven code points, one character
	england := "\U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F"
	ok := []struct{ in, want string }{
		{"Ann", "Ann"},
		{"  Ann  ", "Ann"},
		{"jose\u0301", "jos\u00e9"}, // NFC
		{family, family},
		{england, england},
		{"می\u200Cخواهم", "می\u200Cخواهم"}, // ZWNJ inside a Persian word
		{"\u2764\uFE0F fan", "\u2764\uFE0F fan"},
		{"Zoë Ω 東京 ㅤx", "Zoë Ω 東京 ㅤx"},
	}
	for _, c := range ok {
		got, err := Line("displayName", c.in, 20)
		if err != nil || got != c.want {
			t.Errorf("Line(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	bad := []string{
		"", "   ", "\u3164", "\u3164\u3164", "\u115F\u1160", "\uFFA0", "\u2800", "\u200B", " \u00A0 ",
		"\u202EnimdA", "Ann\u200E", "\u2066x\u2069", "a\u0000b", "a\u0007b", "a\u0085b", "a\nb", "a\tb", "a\u2028b",
		"\u200Dx", "a\u200Bb", "a\u00ADb", "\uFEFFAnn", "a\uE000b", "a\uFFFFb", "\xff",
		"\uFE0F", "\u0301",
	}
	for _, in := range bad {
		if got, err := Line("displayName", in, 50); err == nil {
			t.Errorf("Line(%q) accepted as %q", in, got)
		} else if e, ok := As(err); !ok || e.Field != "displayName" {
			t.Errorf("Line(%q): %v does not name the field", in, err)
		}
	}
	// Length in grapheme clusters.
	if _, err := Line("name", strings.Repeat(family, 3), 3); err != nil {
		t.Errorf("three family emoji in 3 characters: %v", err)
	}
	if _, err := Line("name", strings.Repeat(family, 4), 3); err == nil {
		t.Error("four family emoji passed a limit of 3")
	}
	if _, err := Line("name", strings.Repeat("e\u0301", 3), 3); err != nil {
		t.Errorf("decomposed accents count once: %v", err)
	}
	// Multiline keeps line breaks and tabs, turns CR LF into LF; NUL stays refused.
	if got, err := Paragraph("body", "a\r\n\tb", 10); err != nil || got != "a\n\tb" {
		t.Errorf("Paragraph: %q, %v", got, err)
	}
	for _, in := range []string{"a\u0000b", "a\rb", "\n\n", "\u202Ex"} {
		if _, err := Paragraph("body", in, 10); err == nil {
			t.Errorf("Paragraph(%q) accepted", in)
		}
	}
	if got, err := (Text{Max: 5, Optional: true}).Check("description", "  "); err != nil || got != "" {
		t.Errorf("optional blank: %q %v", got, err)
	}
	if _, err := (Text{Max: 5, Optional: true}).Check("description", "\u3164"); err == nil {
		t.Error("optional text of only a filler accepted")
	}
}

func TestIdentifierPolicy(t *testing.T) {
	for _, in := range []string{"order-1001", "A_b.c:d/e#1", " k1 ", "~!"} {
		if _, err := Identifier("externalId", in, 16); err != nil {
			t.Errorf("Identifier(%q): %v", in, err)
		}
	}
	for _, in := range []string{"", " ", "a b", "a\u0000b", "a\tb", "caf\u00e9", "\u202Eab", "a\u200Bb", strings.Repeat("x", 17), "ｏｒｄｅｒ"} {
		if _, err := Identifier("externalId", in, 16); err == nil {
			t.Errorf("Identifier(%q) accepted", in)
		}
	}
}
