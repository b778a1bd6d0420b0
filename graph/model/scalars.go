package model

import (
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
)

// MarshalDate writes a member.Date as "YYYY-MM-DD".
func MarshalDate(d member.Date) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(d.String())) })
}

// UnmarshalDate reads "YYYY-MM-DD".
func UnmarshalDate(v any) (member.Date, error) {
	s, ok := v.(string)
	if !ok {
		return member.Date{}, input.Errorf("", "want a date as a YYYY-MM-DD string")
	}
	d, err := member.ParseDate(s)
	if err != nil {
		return member.Date{}, input.Errorf("", "%v", err)
	}
	return d, nil
}

// MarshalDateTime writes a time in RFC 3339 (gqlgen's own form).
func MarshalDateTime(t time.Time) graphql.Marshaler { return graphql.MarshalTime(t) }

// UnmarshalDateTime reads a date and time in RFC 3339 (as gqlgen's
// graphql.UnmarshalTime does: fractions of a second optional, "" is the
// zero time). Anything else is the client's input, not a failure of ours:
// an input.Error the presenter names by its argument or field.
func UnmarshalDateTime(v any) (time.Time, error) {
	t, err := graphql.UnmarshalTime(v)
	if err != nil {
		return time.Time{}, input.Errorf("", "want a date and time in RFC 3339, such as \"2026-03-08T19:00:00Z\" or \"2026-03-08T19:00:00+03:00\"")
	}
	return t, nil
}
