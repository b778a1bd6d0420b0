package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/internal/lease"
	"github.com/regulars/regulars/push"
	"github.com/regulars/regulars/server/config"
	"github.com/regulars/regulars/server/jobs"
)

// pushPoll is how often the push outbox looks for notifications to push
// and deliveries that are due, which bounds how late a push leaves.
const pushPoll = time.Second

// pushLease is how long an instance holds the push outbox between
// renewals: an instance that dies delays pushes this long at most. Two
// instances running it at once (a run longer than the lease) is safe,
// only wasteful: every step of the outbox is keyed or conditional.
const pushLease = 10 * time.Second

// pushProviders builds the providers the environment configures: FCM for
// Android and web, APNs for iOS. Each is off when its variables are unset,
// which off says in one line for the log; a set but unreadable credential
// refuses the start.
func pushProviders(cfg config.Config) (ps map[push.Platform]push.Provider, off string, err error) {
	ps = map[push.Platform]push.Provider{}
	var offFor []string
	if cfg.FCMCredentialsFile != "" {
		key, err := os.ReadFile(cfg.FCMCredentialsFile)
		if err != nil {
			return nil, "", fmt.Errorf("FCM_CREDENTIALS_FILE: %w", err)
		}
		fcm, err := push.NewFCM(context.Background(), key, cfg.FCMBaseURL, nil)
		if err != nil {
			return nil, "", fmt.Errorf("FCM_CREDENTIALS_FILE: %w", err)
		}
		ps[push.PlatformAndroid], ps[push.PlatformWeb] = fcm, fcm
	} else {
		offFor = append(offFor, "Android and web (FCM_CREDENTIALS_FILE is unset)")
	}
	if cfg.APNsKeyFile != "" {
		apns, err := push.NewAPNs(push.APNsConfig{KeyFile: cfg.APNsKeyFile, KeyID: cfg.APNsKeyID, TeamID: cfg.APNsTeamID, Topic: cfg.APNsTopic, Host: cfg.APNsHost}, nil)
		if err != nil {
			return nil, "", fmt.Errorf("APNS_KEY_FILE: %w", err)
		}
		ps[push.PlatformIOS] = apns
	} else {
		offFor = append(offFor, "iOS (APNS_KEY_FILE is unset)")
	}
	if len(offFor) > 0 {
		off = "push notifications off for " + strings.Join(offFor, " and ") + "; see the README's \"Push notifications\""
	}
	return ps, off, nil
}

// newPush is the push service over db; with any provider configured the
// inbox marks pushed kinds for its outbox.
func (m *Main) newPush(db *mongo.Database) (*push.Service, error) {
	providers, off, err := pushProviders(m.Config)
	if err != nil {
		return nil, err
	}
	m.pushOff = off
	svc := push.New(db, push.Deps{Inbox: m.inbox, Members: m.members, Providers: providers,
		Settings: func(ctx context.Context) (push.Settings, error) {
			p, err := m.game.Rooms().Program.Get(ctx)
			if err != nil {
				return push.Settings{}, err
			}
			return push.Settings{QuietStart: p.Push.QuietHoursStart, QuietEnd: p.Push.QuietHoursEnd,
				DailyCap: p.Push.MarketingDailyCap, Location: p.Location()}, nil
		}})
	if svc.Enabled() {
		m.inbox.SetPush(push.Pushable)
	}
	return svc, nil
}

// runPush delivers pushes from the outbox until ctx ends, on one instance
// at a time (a lease of its own, apart from the periodic jobs, so a long
// campaign run never holds pushes back).
func (m *Main) runPush(ctx context.Context) {
	if !m.push.Enabled() {
		return
	}
	select {
	case <-m.readyCh:
	case <-ctx.Done():
		return
	}
	l := lease.New(m.mongo.Database(m.Config.MongoDatabase).Collection("leases"), "push", jobs.Holder(), pushLease, time.Now)
	jobs.WhileHeld(ctx, "push", l, pushPoll, func(ctx context.Context) {
		r, err := m.push.Deliver(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled):
			slog.Error("push: deliver", "err", err)
		case r.Sent+r.Failed+r.Dropped > 0:
			slog.Info("push: delivered", "sent", r.Sent, "retrying", r.Retried, "failed", r.Failed, "dropped", r.Dropped)
		}
	})
}
