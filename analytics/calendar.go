package analytics

import (
	"time"

	"github.com/regulars/regulars/member"
)

// A day is a calendar date of the program's timezone, numbered as days
// since 1970-01-01; a month is numbered as months since 1970-01. Numbers
// compare and subtract, and keep rollup documents small.

// dayOf is the program-timezone date of t.
func dayOf(t time.Time, loc *time.Location) int {
	y, m, d := t.In(loc).Date()
	return dayNumber(y, m, d)
}

func dayNumber(y int, m time.Month, d int) int {
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// dayDate is day as a UTC midnight (its date, not an instant of the zone).
func dayDate(day int) time.Time { return time.Unix(int64(day)*86400, 0).UTC() }

// dayStart is the instant day begins in loc.
func dayStart(day int, loc *time.Location) time.Time {
	y, m, d := dayDate(day).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// monthOfDay is the month day falls in.
func monthOfDay(day int) int {
	y, m, _ := dayDate(day).Date()
	return monthNumber(y, m)
}

func monthNumber(y int, m time.Month) int { return (y-1970)*12 + int(m) - 1 }

// monthFirstDay is the first day of month.
func monthFirstDay(month int) int { return dayNumber(1970+month/12, time.Month(month%12+1), 1) }

// monthString is month as YYYY-MM.
func monthString(month int) string { return dayDate(monthFirstDay(month)).Format("2006-01") }

// dateString is day as YYYY-MM-DD.
func dateString(day int) string { return dayDate(day).Format(time.DateOnly) }

// dateOf is day as a member.Date (the API's Date).
func dateOf(day int) member.Date {
	y, m, d := dayDate(day).Date()
	return member.Date{Year: y, Month: m, Day: d}
}
