package forum

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/regulars/regulars/input"
)

// Limits of what members write.
const (
	MaxTitle    = 120
	MaxBody     = 10_000
	MaxImages   = 4
	MaxImageURL = 2048
	MaxMentions = 10
	MaxName     = 60
	MaxDesc     = 500
)

// The markup is small and stored as the text the member wrote; the API
// never renders HTML, apps render it:
//
//	**bold**   _italic_   > a quoted line   [text](https://example.com)
//	https://example.com (a bare link)   @displayName (a mention)
//
// HTML is not part of it: a tag (<b>, <script>, </…>, <!…>) is refused, as
// is a link whose scheme is not http or https (javascript:, data:).
var (
	htmlTag     = regexp.MustCompile(`<\s*[/!?]?\s*[A-Za-z]`)
	markupLink  = regexp.MustCompile(`\[[^\]]*\]\(\s*([^)\s]*)\s*\)`)
	bareLink    = regexp.MustCompile(`(?i)\b(?:https?://|www\.)\S+`)
	badScheme   = regexp.MustCompile(`(?i)\b(?:javascript|vbscript|data|file)\s*:`)
	mentionName = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_])@([\p{L}\p{N}_.\-]{1,50})`)
)

// Text is what a member writes: a thread's title (empty for a reply), a
// post's body and its images.
type Text struct {
	Title  string
	Body   string
	Images []string
}

// Check trims and checks t; errors name title, body or images[i].
func (t *Text) Check(thread bool) error {
	t.Title = strings.TrimSpace(t.Title)
	t.Body = strings.TrimSpace(t.Body)
	if thread {
		if err := text("title", t.Title, MaxTitle, false); err != nil {
			return err
		}
		if htmlTag.MatchString(t.Title) {
			return input.Errorf("title", "HTML is not allowed; the title is plain text")
		}
	}
	if err := text("body", t.Body, MaxBody, true); err != nil {
		return err
	}
	if htmlTag.MatchString(t.Body) {
		return input.Errorf("body", "HTML is not allowed; use the community markup (**bold**, _italic_, > quote, [text](https://…))")
	}
	if badScheme.MatchString(t.Body) {
		return input.Errorf("body", "links must be http or https")
	}
	for _, m := range markupLink.FindAllStringSubmatch(t.Body, -1) {
		if u, err := url.Parse(m[1]); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return input.Errorf("body", "link %q must be an http or https address", m[1])
		}
	}
	if len(t.Images) > MaxImages {
		return input.Errorf("images", "at most %d images, got %d", MaxImages, len(t.Images))
	}
	for i, raw := range t.Images {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || u.Host == "" || len(raw) > MaxImageURL {
			return input.Errorf("images["+itoa(i)+"]", "must be an https address of at most %d characters", MaxImageURL)
		}
	}
	return nil
}

// HasLinks reports whether t links anywhere (new members may not link
// before their first purchase).
func (t *Text) HasLinks() bool {
	return markupLink.MatchString(t.Body) || bareLink.MatchString(t.Body)
}

// Mentions lists the distinct @names in the body, at most MaxMentions.
func (t *Text) Mentions() []string {
	var names []string
	seen := map[string]bool{}
	for _, m := range mentionName.FindAllStringSubmatch(t.Body, -1) {
		n := strings.TrimRight(m[1], ".-")
		if k := strings.ToLower(n); n != "" && !seen[k] && len(names) < MaxMentions {
			seen[k] = true
			names = append(names, n)
		}
	}
	return names
}

// text checks one human text field: valid UTF-8, no control characters
// but newlines and tabs (only multi-line fields keep newlines), 1 to max characters.
func text(field, s string, max int, multiline bool) error {
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		return input.Errorf(field, "must be valid UTF-8")
	case n == 0:
		return input.Errorf(field, "is required")
	case n > max:
		return input.Errorf(field, "must be at most %d characters, got %d", max, n)
	}
	for _, r := range s {
		if (unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r'))) || r == '\u2028' || r == '\u2029' {
			return input.Errorf(field, "must not contain control characters")
		}
	}
	return nil
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
