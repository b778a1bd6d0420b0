package main

import (
	"strings"
	"testing"
)

type notificationTexts struct {
	Edges []struct {
		Node struct{ Kind, Title, Body string } `json:"node"`
	} `json:"edges"`
}

// newest returns the member's newest notification of kind.
func (a *app) newest(t *testing.T, s session, kind string) (title, body string) {
	t.Helper()
	var conn notificationTexts
	a.do(t, s.bearer(), `{ notifications(first: 20) { edges { node { kind title body } } } }`, nil).decode(t, "notifications", &conn)
	for _, e := range conn.Edges {
		if e.Node.Kind == kind {
			return e.Node.Title, e.Node.Body
		}
	}
	t.Fatalf("no %s notification in %+v", kind, conn)
	return "", ""
}

func TestNotificationsSpeakTheMembersLanguage(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	var ivan session
	a.do(t, "", signUpMutation, map[string]any{"in": map[string]any{
		"email": "ivan@example.com", "password": "correct horse battery", "displayName": "Иван", "timezone": "Europe/Moscow", "locale": "ru",
	}}).decode(t, "signUp", &ivan)
	if title, _ := a.newest(t, ivan, "WELCOME"); title != "Добро пожаловать в клуб, Иван" {
		t.Fatalf("welcome in ru: %q", title)
	}
	a.service(t, recordActivity, purchaseVars(ivan.Member.ID, "ru-order-1", 4250)).decode(t, "recordActivity", &activityResult{})
	if title, body := a.newest(t, ivan, "REWARD_EARNED"); title != "Вам начислено баллов: 475" || body != "Ваш баланс: 475." {
		t.Fatalf("purchase notification in ru: %q %q", title, body)
	}

	// An English member; then BRAND rewrites the English points template.
	ann := a.signUp(t, "ann@example.com")
	a.service(t, recordActivity, purchaseVars(ann.Member.ID, "en-order-1", 1000)).decode(t, "recordActivity", &activityResult{})
	if title, _ := a.newest(t, ann, "REWARD_EARNED"); title != "You earned 150 points" {
		t.Fatalf("built-in English: %q", title)
	}
	var tpl struct {
		Title, Body  string
		Overridden   bool
		Placeholders []string
	}
	a.service(t, `mutation($in: NotificationTemplateInput!) { setNotificationTemplate(input: $in) { title body overridden placeholders } }`,
		map[string]any{"in": map[string]any{"locale": "en", "name": "POINTS_EARNED", "title": "+{points} points, nice!", "body": "Balance: {balance}."}}).
		decode(t, "setNotificationTemplate", &tpl)
	if !tpl.Overridden || strings.Join(tpl.Placeholders, ",") != "points,reason,balance" {
		t.Fatalf("override: %+v", tpl)
	}
	a.service(t, recordActivity, purchaseVars(ann.Member.ID, "en-order-2", 1000)).decode(t, "recordActivity", &activityResult{})
	if title, body := a.newest(t, ann, "REWARD_EARNED"); title != "+200 points, nice!" || body != "Balance: 350." {
		t.Fatalf("overridden English: %q %q", title, body)
	}
	// The Russian template is untouched, and the first notification kept its text.
	a.service(t, recordActivity, purchaseVars(ivan.Member.ID, "ru-order-2", 1000)).decode(t, "recordActivity", &activityResult{})
	if title, _ := a.newest(t, ivan, "REWARD_EARNED"); !strings.HasPrefix(title, "Вам начислено баллов:") {
		t.Fatalf("ru after an en override: %q", title)
	}
	var conn notificationTexts
	a.do(t, ann.bearer(), `{ notifications(first: 20) { edges { node { kind title body } } } }`, nil).decode(t, "notifications", &conn)
	kept := false
	for _, e := range conn.Edges {
		kept = kept || e.Node.Title == "You earned 150 points"
	}
	if !kept {
		t.Fatalf("a stored notification was rewritten: %+v", conn)
	}

	// A member switches language on the profile.
	var me struct{ Locale *string }
	a.do(t, ann.bearer(), `mutation { updateProfile(input: {locale: "ru"}) { locale } }`, nil).decode(t, "updateProfile", &me)
	if me.Locale == nil || *me.Locale != "ru" {
		t.Fatalf("locale after update: %v", me.Locale)
	}
}

func TestNotificationTemplateRefusals(t *testing.T) {
	a := startApp(t, nil)
	set := `mutation($in: NotificationTemplateInput!) { setNotificationTemplate(input: $in) { title } }`
	for _, c := range []struct {
		name, field string
		in          map[string]any
	}{
		{"unknown placeholder in the title", "title", map[string]any{"locale": "en", "name": "POINTS_EARNED", "title": "You got {pionts}", "body": "ok"}},
		{"placeholder of another template", "body", map[string]any{"locale": "ru", "name": "WIN_BACK", "title": "Мы скучаем", "body": "Код {code}"}},
		{"unsupported locale", "locale", map[string]any{"locale": "de", "name": "WIN_BACK", "title": "t", "body": "b"}},
	} {
		r := a.service(t, set, map[string]any{"in": c.in})
		if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field {
			t.Errorf("%s: want BAD_USER_INPUT on %s, got %+v", c.name, c.field, r.Errors)
		}
	}
	var list []struct {
		Name       string
		Overridden bool
	}
	a.service(t, `{ notificationTemplates(locale: "en") { name overridden } }`, nil).decode(t, "notificationTemplates", &list)
	for _, x := range list {
		if x.Overridden {
			t.Errorf("a refused template was stored: %s", x.Name)
		}
	}
	// Only BRAND may change the texts.
	ann := a.signUp(t, "ann@example.com")
	if r := a.do(t, ann.bearer(), set, map[string]any{"in": map[string]any{"locale": "en", "name": "WIN_BACK", "title": "t", "body": "b"}}); r.code() != "FORBIDDEN" {
		t.Errorf("a customer changed a template: %+v", r.Errors)
	}
	// A member's locale is checked too.
	if r := a.do(t, ann.bearer(), `mutation { updateProfile(input: {locale: "xx"}) { locale } }`, nil); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "locale" {
		t.Errorf("unsupported member locale: %+v", r.Errors)
	}
}
