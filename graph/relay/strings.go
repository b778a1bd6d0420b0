package relay

import (
	"encoding/base64"
	"strings"

	"github.com/regulars/regulars/input"
)

// EncodeStringCursor is a cursor of a list ordered by a position the
// domain writes as a string (a thread order's key, a score and an id).
func EncodeStringCursor(list, pos string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + ":" + pos))
}

// DecodeStringCursor reads an "after" cursor of list made by
// EncodeStringCursor: the position it holds, "" for nil or "" (the start).
func DecodeStringCursor(list string, after *string) (string, error) {
	if after == nil || *after == "" {
		return "", nil
	}
	raw, err := strict.DecodeString(*after)
	if err == nil {
		if pos, ok := strings.CutPrefix(string(raw), list+":"); ok && pos != "" {
			return pos, nil
		}
	}
	return "", input.Errorf("after", "is not a cursor of this list")
}
