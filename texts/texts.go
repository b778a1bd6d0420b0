// Package texts renders the titles and bodies of the notifications the
// domain sends, from templates per locale.
//
// The domain names a template and hands over its data (amounts, names,
// dates); it writes no words. Regulars ships an English and a Russian set
// (builtin.go); the brand may override any template per locale, and an
// override is checked against the placeholders its template knows.
//
// A template is plain text with {placeholder}s. Numbers are written as
// digits, dates (time.Time) in the locale's own form ("2 January",
// "2 января"), and a moment (At: a date with its time of day, an event's
// start) at its place's wall clock ("Mon 2 January 19:00 MSK",
// "пн, 2 января 19:00 MSK"). A notification keeps the text it was sent with: changing a
// template never rewrites the inbox.
package texts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/input"
	"github.com/rivo/uniseg"
)

// Name names a template.
type Name string

// The templates, with the placeholders each knows.
const (
	Welcome             Name = "WELCOME"               // {name}
	PointsEarned        Name = "POINTS_EARNED"         // {points} {reason} {balance}
	PointsReceived      Name = "POINTS_RECEIVED"       // {points} {reason}: a brand's adjustment
	TierChanged         Name = "TIER_CHANGED"          // {from} {to}
	BadgeUnlocked       Name = "BADGE_UNLOCKED"        // {badge} {level} {description}
	RedemptionCompleted Name = "REDEMPTION_COMPLETED"  // {reward} {code} {points}
	RedemptionCancelled Name = "REDEMPTION_CANCELLED"  // {points} {reason}
	Birthday            Name = "BIRTHDAY"              // {name} {points}
	WinBack             Name = "WIN_BACK"              //
	PointsExpiring      Name = "POINTS_EXPIRING"       // {points} {date}
	StreakAtRisk        Name = "STREAK_AT_RISK"        // {days}
	CouponExpiring      Name = "COUPON_EXPIRING"       // {code} {date} {time}
	CommunityReply      Name = "COMMUNITY_REPLY"       // {name} {thread}
	CommunityMention    Name = "COMMUNITY_MENTION"     // {name} {thread}
	CommunityPostHidden Name = "COMMUNITY_POST_HIDDEN" // {thread}
	EventSeatOffered    Name = "EVENT_SEAT_OFFERED"    // {event} {deadline}
	EventReminder       Name = "EVENT_REMINDER"        // {event} {starts} {place}
	EventPublished      Name = "EVENT_PUBLISHED"       // {event} {starts} {place}
	RedemptionFulfilled Name = "REDEMPTION_FULFILLED"  // {reward} {location}
	RedemptionExpired   Name = "REDEMPTION_EXPIRED"    // {reward} {points}
	CouponRedeemed      Name = "COUPON_REDEEMED"       // {offer}
	// Emails (package account): the title is the subject.
	PasswordResetEmail Name = "PASSWORD_RESET_EMAIL" // {brand} {name} {link} {hours}
	VerifyEmailEmail   Name = "VERIFY_EMAIL_EMAIL"   // {brand} {name} {link}
	DataExportReady    Name = "DATA_EXPORT_READY"    // {brand} {hours}
	// Dry runs of earning rules (game/rules/dryrun), to the brand user who asked.
	DryRunFinished Name = "DRY_RUN_FINISHED" // {activities} {before} {after} {members}
	DryRunFailed   Name = "DRY_RUN_FAILED"   //
)

// Placeholders lists, per template, the data it may use.
var Placeholders = map[Name][]string{
	Welcome:             {"name"},
	PointsEarned:        {"points", "reason", "balance"},
	PointsReceived:      {"points", "reason"},
	TierChanged:         {"from", "to"},
	BadgeUnlocked:       {"badge", "level", "description"},
	RedemptionCompleted: {"reward", "code", "points"},
	RedemptionCancelled: {"points", "reason"},
	Birthday:            {"name", "points"},
	WinBack:             {},
	PointsExpiring:      {"points", "date"},
	StreakAtRisk:        {"days"},
	CouponExpiring:      {"code", "date", "time"},
	EventSeatOffered:    {"event", "deadline"},
	EventReminder:       {"event", "starts", "place"},
	CommunityReply:      {"name", "thread"},
	CommunityMention:    {"name", "thread"},
	CommunityPostHidden: {"thread"},
	EventPublished:      {"event", "starts", "place"},
	RedemptionFulfilled: {"reward", "location"},
	RedemptionExpired:   {"reward", "points"},
	CouponRedeemed:      {"offer"},
	PasswordResetEmail:  {"brand", "name", "link", "hours"},
	VerifyEmailEmail:    {"brand", "name", "link"},
	DataExportReady:     {"brand", "hours"},
	DryRunFinished:      {"activities", "before", "after", "members"},
	DryRunFailed:        {},
}

// Names lists every template, in a stable order.
var Names = []Name{Welcome, PointsEarned, PointsReceived, TierChanged, BadgeUnlocked, RedemptionCompleted,
	RedemptionCancelled, Birthday, WinBack, PointsExpiring, StreakAtRisk, CouponExpiring,
	EventSeatOffered, EventReminder, EventPublished,
	CommunityReply, CommunityMention, CommunityPostHidden,
	RedemptionFulfilled, RedemptionExpired, CouponRedeemed,
	PasswordResetEmail, VerifyEmailEmail, DataExportReady, DryRunFinished, DryRunFailed}

// Locales are the languages with a full template set; DefaultLocale is
// used for a member or program that names none.
var Locales = []string{"en", "ru"}

const DefaultLocale = "en"

// Supported reports whether locale has a template set.
func Supported(locale string) bool { return slices.Contains(Locales, locale) }

// Limits on a template, as on a notification's title and body.
const (
	MaxTitle = 120
	MaxBody  = 2000
)

// Template is the title and body of one notification.
type Template struct {
	Title string `bson:"title"`
	Body  string `bson:"body"`
}

// Text is a template as a locale has it now.
type Text struct {
	Locale       string
	Name         Name
	Title        string
	Body         string
	Placeholders []string
	// Overridden says the brand replaced the built-in template.
	Overridden bool
}

// Templates renders notification texts: the built-in set with the brand's
// overrides. Overrides are few and rarely change, so they are kept in
// memory and read again at most every refreshEvery (at once on the
// instance that changed one); rendering costs no database call.
type Templates struct {
	c   *mongo.Collection // nil: built-in texts only
	now func() time.Time

	mu        sync.Mutex
	overrides map[string]Template // by key(locale, name)
	loadedAt  time.Time
}

var replaceUpsert = options.Replace().SetUpsert(true)

// refreshEvery bounds how long another instance's override takes to be used here.
const refreshEvery = 30 * time.Second

// New returns the templates with the brand's overrides in db.
func New(db *mongo.Database) *Templates {
	return &Templates{c: db.Collection("notification_templates"), now: time.Now}
}

// Builtin returns the built-in templates, with no overrides.
func Builtin() *Templates { return &Templates{now: time.Now} }

func key(locale string, name Name) string { return locale + ":" + string(name) }

type override struct {
	ID        string    `bson:"_id"` // locale:name
	Locale    string    `bson:"locale"`
	Name      Name      `bson:"name"`
	Template  Template  `bson:"template"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

// current returns the overrides, reading them again when stale.
func (t *Templates) current(ctx context.Context) (map[string]Template, error) {
	if t.c == nil {
		return nil, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.overrides != nil && t.now().Sub(t.loadedAt) < refreshEvery {
		return t.overrides, nil
	}
	cur, err := t.c.Find(ctx, bson.D{})
	if err != nil {
		if t.overrides != nil {
			return t.overrides, nil // keep the last known set through a database hiccup
		}
		return nil, err
	}
	var docs []override
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	m := make(map[string]Template, len(docs))
	for _, d := range docs {
		m[d.ID] = d.Template
	}
	t.overrides, t.loadedAt = m, t.now()
	return m, nil
}

// lookup returns the template of name in locale: the brand's override, else
// the built-in one; an unknown locale falls back to DefaultLocale.
func (t *Templates) lookup(ctx context.Context, locale string, name Name) (Template, bool, error) {
	if !Supported(locale) {
		locale = DefaultLocale
	}
	over, err := t.current(ctx)
	if err != nil {
		return Template{}, false, err
	}
	if tpl, ok := over[key(locale, name)]; ok {
		return tpl, true, nil
	}
	tpl, ok := builtin[locale][name]
	if !ok {
		return Template{}, false, fmt.Errorf("texts: no template %s", name)
	}
	return tpl, false, nil
}

// Render returns the title and body of template name in locale, filled
// with data. A placeholder without data renders empty. The result always
// fits a notification: a title is one line of at most MaxTitle characters
// and a body at most MaxBody, cut with "…" where the data made them
// longer (a long badge name, a brand's long template), because a
// notification is sent after its cause is written and must not fail then.
func (t *Templates) Render(ctx context.Context, locale string, name Name, data map[string]any) (title, body string, err error) {
	if !Supported(locale) {
		locale = DefaultLocale
	}
	tpl, _, err := t.lookup(ctx, locale, name)
	if err != nil {
		return "", "", err
	}
	title = strings.Join(strings.Fields(fill(tpl.Title, locale, data)), " ")
	return cut(title, MaxTitle), cut(fill(tpl.Body, locale, data), MaxBody), nil
}

// cut shortens s to at most max characters (grapheme clusters, as the
// input policies count them), the last one "…" when it had to.
func cut(s string, max int) string {
	if uniseg.GraphemeClusterCount(s) <= max {
		return s
	}
	var b strings.Builder
	g := uniseg.NewGraphemes(s)
	for n := 0; n < max-1 && g.Next(); n++ {
		b.WriteString(g.Str())
	}
	return strings.TrimSpace(b.String()) + "…"
}

// Set overrides template name in locale. A placeholder the template does
// not know is refused, naming the field ("title" or "body").
func (t *Templates) Set(ctx context.Context, locale string, name Name, tpl Template) (*Text, error) {
	if err := validate(locale, name, &tpl); err != nil {
		return nil, err
	}
	if t.c == nil {
		return nil, errors.New("texts: built-in templates cannot be changed")
	}
	o := override{ID: key(locale, name), Locale: locale, Name: name, Template: tpl, UpdatedAt: t.now().UTC()}
	if _, err := t.c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: o.ID}}, o, replaceUpsert); err != nil {
		return nil, err
	}
	t.forget()
	return &Text{Locale: locale, Name: name, Title: tpl.Title, Body: tpl.Body, Placeholders: Placeholders[name], Overridden: true}, nil
}

// Reset removes the brand's override of name in locale.
func (t *Templates) Reset(ctx context.Context, locale string, name Name) (*Text, error) {
	if err := validLocaleName(locale, name); err != nil {
		return nil, err
	}
	if t.c != nil {
		if _, err := t.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: key(locale, name)}}); err != nil {
			return nil, err
		}
	}
	t.forget()
	tpl := builtin[locale][name]
	return &Text{Locale: locale, Name: name, Title: tpl.Title, Body: tpl.Body, Placeholders: Placeholders[name]}, nil
}

// List returns every template of locale as it renders now.
func (t *Templates) List(ctx context.Context, locale string) ([]*Text, error) {
	if !Supported(locale) {
		return nil, input.Errorf("locale", "unsupported locale %q; supported: %s", locale, strings.Join(Locales, ", "))
	}
	out := make([]*Text, 0, len(Names))
	for _, n := range Names {
		tpl, over, err := t.lookup(ctx, locale, n)
		if err != nil {
			return nil, err
		}
		out = append(out, &Text{Locale: locale, Name: n, Title: tpl.Title, Body: tpl.Body, Placeholders: Placeholders[n], Overridden: over})
	}
	return out, nil
}

func (t *Templates) forget() {
	t.mu.Lock()
	t.overrides = nil
	t.mu.Unlock()
}

func validLocaleName(locale string, name Name) error {
	if !Supported(locale) {
		return input.Errorf("locale", "unsupported locale %q; supported: %s", locale, strings.Join(Locales, ", "))
	}
	if _, ok := Placeholders[name]; !ok {
		return input.Errorf("name", "unknown template %q", name)
	}
	return nil
}

func validate(locale string, name Name, tpl *Template) error {
	err := validLocaleName(locale, name)
	if err != nil {
		return err
	}
	if tpl.Title, err = input.Line("title", tpl.Title, MaxTitle); err != nil {
		return err
	}
	if tpl.Body, err = input.Paragraph("body", tpl.Body, MaxBody); err != nil {
		return err
	}
	for _, f := range []struct{ field, text string }{{"title", tpl.Title}, {"body", tpl.Body}} {
		// Braces only ever enclose a placeholder: a lone one is a typo
		// that would be sent to members as it stands.
		ps := placeholders(f.text)
		if strings.Count(f.text, "{") != len(ps) || strings.Count(f.text, "}") != len(ps) {
			return input.Errorf(f.field, "a { without its } (or the other way round): braces enclose placeholders only")
		}
		for _, p := range ps {
			if !slices.Contains(Placeholders[name], p) {
				known := "none"
				if ps := Placeholders[name]; len(ps) > 0 {
					known = "{" + strings.Join(ps, "}, {") + "}"
				}
				return input.Errorf(f.field, "unknown placeholder {%s}; %s knows %s", p, name, known)
			}
		}
	}
	return nil
}

// placeholders lists the {names} in text.
func placeholders(text string) []string {
	var out []string
	for {
		i := strings.IndexByte(text, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(text[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, text[i+1:i+j])
		text = text[i+j+1:]
	}
}

// fill replaces each {placeholder} of text with its data.
func fill(text, locale string, data map[string]any) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(text, '{')
		j := -1
		if i >= 0 {
			j = strings.IndexByte(text[i:], '}')
		}
		if i < 0 || j < 0 {
			b.WriteString(text)
			return strings.TrimSpace(b.String())
		}
		b.WriteString(text[:i])
		b.WriteString(format(data[text[i+1:i+j]], locale))
		text = text[i+j+1:]
	}
}

func format(v any, locale string) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case Moment:
		return formatMoment(v, locale)
	case time.Time:
		return formatDate(v, locale)
	case *time.Time:
		if v == nil {
			return ""
		}
		return formatDate(*v, locale)
	}
	return fmt.Sprint(v)
}

// Moment is a date with its time of day as shown where it happens: data
// for a template's {placeholder}, built by At.
type Moment struct {
	t time.Time
}

// At is t at the wall clock of loc (an event's timezone; nil: UTC), as a
// template shows it: weekday, date, time and the zone's abbreviation, in
// the template's locale.
func At(t time.Time, loc *time.Location) Moment {
	if loc == nil {
		loc = time.UTC
	}
	return Moment{t.In(loc)}
}

func formatMoment(m Moment, locale string) string {
	t := m.t
	if locale == "ru" {
		return ruWeekdays[t.Weekday()] + ", " + formatDate(t, locale) + " " + t.Format("15:04 MST")
	}
	return t.Format("Mon 2 January 15:04 MST")
}

// ruWeekdays are the weekdays' short names, from Sunday as time.Weekday.
var ruWeekdays = [...]string{"вс", "пн", "вт", "ср", "чт", "пт", "сб"}

func formatDate(t time.Time, locale string) string {
	if locale == "ru" {
		return strconv.Itoa(t.Day()) + " " + ruMonths[t.Month()-1]
	}
	return t.Format("2 January")
}

// ruMonths are the month names in the genitive, as a date says them.
var ruMonths = [...]string{"января", "февраля", "марта", "апреля", "мая", "июня",
	"июля", "августа", "сентября", "октября", "ноября", "декабря"}
