package forum

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"

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

// Check puts t in its stored form and checks it; errors name title, body
// or images[i]. The title is a line and the body a paragraph of the human
// text policy (input.Text: NFC, no controls, no text-reordering or
// invisible characters, not blank, lengths in grapheme clusters); an image
// is an https URL of printable ASCII (input.Identifier) at most
// MaxImageURL long.
func (t *Text) Check(thread bool) error {
	var err error
	if thread {
		if t.Title, err = input.Line("title", t.Title, MaxTitle); err != nil {
			return err
		}
		if htmlTag.MatchString(t.Title) {
			return input.Errorf("title", "HTML is not allowed; the title is plain text")
		}
	}
	if t.Body, err = input.Paragraph("body", t.Body, MaxBody); err != nil {
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
		field := "images[" + strconv.Itoa(i) + "]"
		if t.Images[i], err = input.Identifier(field, raw, MaxImageURL); err != nil {
			return err
		}
		if u, err := url.Parse(t.Images[i]); err != nil || u.Scheme != "https" || u.Host == "" {
			return input.Errorf(field, "must be an https address")
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
