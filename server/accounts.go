package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/account"
	"github.com/regulars/regulars/mail"
	"github.com/regulars/regulars/member"
)

// devMailFile is where a development server without SMTP_URL appends the
// emails it would have sent, one line each, in DATA_DIR.
const devMailFile = "sent-mail.log"

// newMailer is the SMTP sender of SMTP_URL, or, without it, the log (with
// the bodies, and DATA_DIR/sent-mail.log, in development only); m.mailNote
// then says so, once started.
func (m *Main) newMailer() (account.Mailer, error) {
	cfg := m.Config
	if m.Mailer != nil {
		return m.Mailer, nil
	}
	if cfg.SMTPURL != "" {
		s, err := mail.NewSMTP(cfg.SMTPURL, cfg.SMTPFrom)
		if err != nil {
			return nil, fmt.Errorf("SMTP_URL: %w", err)
		}
		return s, nil
	}
	if cfg.Env == "production" {
		m.mailNote = func() {
			slog.Warn("SMTP_URL is not set: account emails (password reset, email verification) are not sent")
		}
		return &mail.Log{}, nil
	}
	file := filepath.Join(cfg.DataDir, devMailFile)
	m.mailNote = func() {
		slog.Info(fmt.Sprintf("SMTP_URL is not set: emails are logged, not sent, and appended to %s (development only)", file))
	}
	return &mail.Log{File: file, Bodies: true}, nil
}

// newAccounts wires the account flows: the mailer, the erasers of every
// domain that keeps personal data, and the sections of a data export.
func (m *Main) newAccounts(db *mongo.Database) (*account.Service, error) {
	mailer, err := m.newMailer()
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(m.Config.PublicURL, "/")
	a := account.New(db, m.members, m.auth, mailer, m.texts, m.inbox, account.Config{
		Brand: m.Config.BrandName, LinkBase: m.Config.AppLinkBase, DownloadBase: base,
		Locale: func(ctx context.Context, mb *member.Member) string {
			if mb.Locale != "" {
				return mb.Locale
			}
			if p, err := m.game.Rooms().Program.Get(ctx); err == nil {
				return p.Locale
			}
			return ""
		},
	})
	// Each domain's part of a deletion; the member's own record goes last
	// (account erases it after these).
	forum := m.community.Forum()
	a.AddErasers(
		m.game.Rooms().Referrals, // the referral code retired, off the boards
		m.game.Rooms().Boards,    // entries removed
		m.push,                   // devices, queued pushes, marketing counts
		m.till,                   // the member card's code retired
		m.webhooks,               // their email and name out of the events about them
		account.EraserFunc(func(ctx context.Context, id bson.ObjectID) error {
			// Their name in others' posts and notifications, while it is still known.
			mb, err := m.members.Get(ctx, id)
			if errors.Is(err, member.ErrNotFound) || (err == nil && mb.Erased()) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := forum.Posts.ForgetMentions(ctx, id, mb.DisplayName); err != nil {
				return err
			}
			return m.inbox.ForgetName(ctx, mb.DisplayName, member.FormerMemberName)
		}),
		m.inbox, // their notifications and preferences
	)
	a.AddSections(
		account.CollectionSection("profile", db.Collection("members"), "_id", "passwordHash", "nameKey"),
		account.CollectionSection("referral", db.Collection("accounts"), "_id"),
		account.CollectionSection("ledger", db.Collection("ledger"), "memberId"),
		account.CollectionSection("activities", db.Collection("activities"), "memberId"),
		account.CollectionSection("redemptions", db.Collection("redemptions"), "memberId"),
		account.CollectionSection("coupons", db.Collection("offer_claims"), "memberId"),
		account.CollectionSection("badges", db.Collection("engagement"), "memberId"),
		account.CollectionSection("notifications", db.Collection("notifications"), "memberId"),
		account.CollectionSection("notificationPreferences", db.Collection("notification_prefs"), "_id"),
		account.CollectionSection("rsvps", db.Collection("event_rsvps"), "memberId"),
		account.CollectionSection("posts", db.Collection("community_posts"), "authorId"),
		account.CollectionSection("devices", db.Collection("push_devices"), "memberId"),
		account.CollectionSection("reactions", db.Collection("community_reactions"), "memberId"),
	)
	return a, nil
}
