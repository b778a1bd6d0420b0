package input

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"golang.org/x/text/unicode/norm"
)

// Text is the one policy for text people read: display names, reward and
// badge names and descriptions, offer and notification titles and bodies,
// template overrides, reasons shown to a member. Check applies it:
//
//   - valid UTF-8, normalised to NFC, white space trimmed at both ends;
//   - no control characters (NUL and every other C0/C1 control; a
//     Multiline text keeps line feeds and tabs, and CR LF becomes LF), no
//     line or paragraph separators, no private-use or non-characters;
//   - no characters that reorder text (the Unicode Bidi_Control set: the
//     right-to-left override U+202E, isolates, marks) and no other format
//     characters (zero-width space U+200B, soft hyphen, word joiner, BOM…),
//     except the joiners (U+200C, U+200D) and tag characters inside a
//     grapheme cluster, as emoji sequences and some scripts need them;
//   - not blank: at least one grapheme cluster must show something once
//     white space and default-ignorable characters (U+3164 Hangul filler
//     and its kin, variation selectors, U+2800 braille blank) are removed;
//   - Max counts grapheme clusters (what a reader sees as one character: a
//     family emoji or e + U+0301 is one), as Unicode TR #29 defines them.
//
// Character classes come from the Unicode tables of the standard library
// and golang.org/x/text; grapheme clusters from github.com/rivo/uniseg.
type Text struct {
	// Max is the most grapheme clusters allowed.
	Max int
	// Multiline allows line feeds and tabs (bodies, descriptions).
	Multiline bool
	// Optional allows the empty string; anything else must still show
	// something.
	Optional bool
}

// Line is a required one-line text of at most max characters (names, titles).
func Line(field, s string, max int) (string, error) {
	return Text{Max: max}.Check(field, s)
}

// Paragraph is a required text of at most max characters that may span
// lines (bodies).
func Paragraph(field, s string, max int) (string, error) {
	return Text{Max: max, Multiline: true}.Check(field, s)
}

// bytesPerCluster bounds the bytes of a text before it is examined: the
// longest emoji sequences are under 32 bytes a cluster.
const bytesPerCluster = 32

// Check returns s in its stored form (NFC, trimmed) or an *Error naming field.
func (p Text) Check(field, s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", Errorf(field, "must be valid UTF-8")
	}
	if len(s) > bytesPerCluster*p.Max {
		return "", Errorf(field, "must be at most %d characters", p.Max)
	}
	if p.Multiline {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	s = strings.TrimSpace(norm.NFC.String(s))
	if s == "" {
		if p.Optional {
			return "", nil
		}
		return "", Errorf(field, "is required")
	}
	visible, n := false, 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		n++
		for i, r := range g.Runes() {
			if err := p.refused(field, r, i == 0); err != nil {
				return "", err
			}
			visible = visible || shows(r)
		}
	}
	switch {
	case !visible:
		return "", Errorf(field, "must not be blank: spaces and invisible characters alone do not count")
	case n > p.Max:
		return "", Errorf(field, "must be at most %d characters, got %d", p.Max, n)
	}
	return s, nil
}

// refused says why r may not appear; first tells whether r starts its
// grapheme cluster.
func (p Text) refused(field string, r rune, first bool) error {
	switch {
	case r == '\n' || r == '\t':
		if !p.Multiline {
			return Errorf(field, "must be one line: no line breaks or tabs")
		}
		return nil
	case unicode.Is(unicode.Bidi_Control, r):
		return Errorf(field, "must not contain characters that change the direction of text (%U)", r)
	case unicode.In(r, unicode.Cc, unicode.Zl, unicode.Zp):
		return Errorf(field, "must not contain control characters (%U)", r)
	case unicode.In(r, unicode.Co, unicode.Cs, unicode.Noncharacter_Code_Point) || r == utf8.RuneError:
		return Errorf(field, "must not contain private-use or non-characters (%U)", r)
	case unicode.Is(unicode.Cf, r):
		if !first && (unicode.Is(unicode.Join_Control, r) || isTag(r)) {
			return nil // inside an emoji or a word that needs a joiner
		}
		return Errorf(field, "must not contain invisible formatting characters (%U)", r)
	}
	return nil
}

// isTag reports a tag character (the subdivision flags' sequences).
func isTag(r rune) bool { return r >= 0xE0020 && r <= 0xE007F }

// shows reports whether r prints something by itself.
func shows(r rune) bool {
	return !unicode.IsSpace(r) && !unicode.In(r, unicode.Zs, unicode.Cf, unicode.Mn, unicode.Me,
		unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point) && r != '\u2800'
}

// Identifier is the policy for identifiers from the brand's systems and
// for keys a client chooses (externalId, refundOf, SKUs and categories,
// promotion ids, idempotency keys, codes): 1 to max characters of printable
// ASCII, U+0021 to U+007E (letters, digits and punctuation; no spaces, no
// controls, nothing outside ASCII), surrounding spaces trimmed. They are
// compared byte for byte, so there is nothing to normalise and nothing
// that prints alike.
func Identifier(field, s string, max int) (string, error) {
	s = strings.Trim(s, " ")
	if s == "" {
		return "", Errorf(field, "is required")
	}
	if len(s) > max {
		return "", Errorf(field, "must be at most %d characters", max)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e {
			r, _ := utf8.DecodeRuneInString(s[i:])
			return "", Errorf(field, "must be printable ASCII (letters, digits, punctuation; no spaces): found %U", r)
		}
	}
	return s, nil
}
