package rollup

import (
	"time"

	"github.com/regulars/regulars/member"
)

// A day is a calendar date of the program's timezone, numbered as days
// since 1970-01-01; a month is numbered as months since 1970-01. Numbers
// compare and subtract, and keep rollup documents small. Every rollup is
// keyed by them, and the figures cut ranges with them.

// DayOf is the program-timezone date of t.
func DayOf(t time.Time, loc *time.Location) int {
	y, m, d := t.In(loc).Date()
	return DayNumber(y, m, d)
}

// DayNumber is the day of a calendar date.
func DayNumber(y int, m time.Month, d int) int {
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// DayDate is day as a UTC midnight (its date, not an instant of the zone).
func DayDate(day int) time.Time { return time.Unix(int64(day)*86400, 0).UTC() }

// DayStart is the instant day begins in loc.
func DayStart(day int, loc *time.Location) time.Time {
	y, m, d := DayDate(day).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// MonthOf is the month day falls in.
func MonthOf(day int) int {
	y, m, _ := DayDate(day).Date()
	return (y-1970)*12 + int(m) - 1
}

// MonthStart is the first day of month.
func MonthStart(month int) int { return DayNumber(1970+month/12, time.Month(month%12+1), 1) }

// Date is day as a member.Date (the API's Date).
func Date(day int) member.Date {
	y, m, d := DayDate(day).Date()
	return member.Date{Year: y, Month: m, Day: d}
}
