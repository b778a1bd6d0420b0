// Package account runs what a member does with their account as a whole:
// password reset and email verification by emailed links, deletion with
// erasure of their personal data in every domain, and the export of
// everything kept about them.
package account

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/mail"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/member/auth"
	"github.com/regulars/regulars/texts"
)

// Mailer sends an email (package mail: SMTP, or the log in development).
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// Eraser erases what one domain keeps about a member that identifies them.
// Each must be safe to repeat: a deletion cut short runs them all again.
type Eraser interface {
	EraseMember(ctx context.Context, memberID bson.ObjectID) error
}

// Notifier puts a notification in the member's inbox.
type Notifier interface {
	Send(ctx context.Context, m inbox.Message) (*inbox.Notification, error)
}

// Texts renders emails and notifications (package texts).
type Texts interface {
	Render(ctx context.Context, locale string, name texts.Name, data map[string]any) (title, body string, err error)
}

// Config sets up a Service.
type Config struct {
	// Brand is the brand's name, as emails say it.
	Brand string
	// LinkBase starts the links in emails: LinkBase + "reset-password?token=…"
	// (an app link such as myapp:// or an https page that opens the app).
	LinkBase string
	// DownloadBase starts export download links: DownloadBase + "/exports/<id>".
	DownloadBase string
	// Locale gives the language of a member's emails (their own or the
	// program's); nil: the member's, else texts.DefaultLocale.
	Locale func(ctx context.Context, m *member.Member) string
	Now    func() time.Time
}

// Service is the accounts' flows over one database.
type Service struct {
	members *member.Service
	auth    *auth.Service // passwords, sessions and emailed links
	mail    Mailer
	texts   Texts
	notify  Notifier
	erasers []Eraser
	reads   []Section
	cfg     Config

	quotas    quotaStore
	deletions *mongo.Collection // the deletion log
	exports   exportStore

	background sync.WaitGroup // emails being sent, exports being built
}

// New returns the service. erasers run in order on a deletion, before the
// member's sign-in data and own record are erased (auth.EraseMember, then
// member.EraseMember, last); sections are what an export holds.
func New(db *mongo.Database, members *member.Service, signin *auth.Service, mailer Mailer, tx Texts, notify Notifier, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Brand == "" {
		cfg.Brand = "Regulars"
	}
	return &Service{
		members: members, auth: signin, mail: mailer, texts: tx, notify: notify, cfg: cfg,
		quotas:    quotaStore{c: db.Collection("account_quotas")},
		deletions: db.Collection("account_deletions"),
		exports:   exportStore{c: db.Collection("data_exports")},
	}
}

// AddErasers adds erasers, run in the order added.
func (s *Service) AddErasers(es ...Eraser) { s.erasers = append(s.erasers, es...) }

// AddSections adds sections to every export.
func (s *Service) AddSections(ss ...Section) { s.reads = append(s.reads, ss...) }

// EnsureIndexes creates the indexes the queries rely on; safe to repeat.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	if err := mongoindex.Ensure(ctx, s.quotas.c, s.quotas.indexes()...); err != nil {
		return err
	}
	return mongoindex.Ensure(ctx, s.exports.c, s.exports.indexes()...)
}

// Wait waits for the emails being sent and the exports being built in the
// background (shutdown, tests).
func (s *Service) Wait() { s.background.Wait() }

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

func (s *Service) locale(ctx context.Context, m *member.Member) string {
	if s.cfg.Locale != nil {
		if l := s.cfg.Locale(ctx, m); l != "" {
			return l
		}
	}
	if m.Locale != "" {
		return m.Locale
	}
	return texts.DefaultLocale
}

// sendLater renders an email and sends it off the request's path, so
// that the answer takes as long whether an email goes out or not. A
// failure is logged: the member asks again.
func (s *Service) sendLater(ctx context.Context, m *member.Member, name texts.Name, data map[string]any) error {
	subject, body, err := s.texts.Render(ctx, s.locale(ctx, m), name, data)
	if err != nil {
		return err
	}
	msg := mail.Message{To: m.Email, Subject: subject, Body: body}
	ctx = context.WithoutCancel(ctx)
	s.background.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := s.mail.Send(ctx, msg); err != nil {
			slog.ErrorContext(ctx, "account: email not sent", "template", string(name), "member", m.ID.Hex(), "err", err)
		}
	})
	return nil
}

// Errors of the flows.
var (
	// ErrRecentLogInRequired: deletion without a password needs a session
	// signed into within RecentLogIn.
	ErrRecentLogInRequired = fault.New(fault.Forbidden, "confirm with your password, or sign in again: deleting an account without a password needs a log-in within the last 5 minutes")
	ErrExportNotFound      = fault.New(fault.NotFound, "export not found, not yours, not ready or expired")
)

// EraserFunc is a function that is an Eraser.
type EraserFunc func(ctx context.Context, memberID bson.ObjectID) error

// EraseMember calls f.
func (f EraserFunc) EraseMember(ctx context.Context, memberID bson.ObjectID) error {
	return f(ctx, memberID)
}
