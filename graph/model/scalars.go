package model

import (
	"io"
	"strconv"

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
