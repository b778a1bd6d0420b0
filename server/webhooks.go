package main

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/regulars/regulars/graph/relay"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/internal/lease"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/server/jobs"
	"github.com/regulars/regulars/webhook"
)

// newWebhooks builds the webhooks: payload ids are the API's (relay.APIID),
// and in production URLs must be https to public addresses.
func (m *Main) newWebhooks(db *mongo.Database) *webhook.Service {
	return webhook.New(db, webhook.Deps{APIID: relay.APIID, Guard: webhook.Guard{Production: m.Config.Env == "production"}})
}

// webhookTick is how often the delivery loop looks for work when nothing
// kicks it: it bounds how late member.created and rsvp.changed (swept from
// their documents) and a retry come. On the embedded database it is
// embeddedPoll: there each step scans members, RSVPs and pending events,
// a fifth of the database's time in a quiet mix of 1,000 members
// (BENCHMARKS.md, "sockets resuming at once"), while an emitted event
// still kicks a step at once.
const webhookTick = time.Second

// runWebhooks runs the delivery loop on one instance at a time (its own
// lease, so the minute-long periodic jobs never delay a delivery).
func (m *Main) runWebhooks(ctx context.Context, db *mongo.Database) {
	if m.webhooksOff {
		return
	}
	select {
	case <-m.readyCh:
	case <-ctx.Done():
		return
	}
	l := lease.New(db.Collection("leases"), "webhooks", jobs.Holder(), 30*time.Second, time.Now)
	if err := l.EnsureIndex(ctx); err != nil {
		slog.Error("webhooks: lease index", "err", err)
	}
	var held bool
	var renewed time.Time
	m.webhooks.Run(ctx, webhook.Loop{
		Tick:   m.embeddedOr(webhookTick),
		Sweeps: []func(context.Context) error{m.announceSignUps, m.announceRSVPChanges},
		Hold: func(ctx context.Context) bool {
			// Renewed every few seconds, not at every step: the lease
			// lasts 30 s, so a holder that stops is replaced within that.
			if held && time.Since(renewed) < 5*time.Second {
				return true
			}
			epoch, err := l.Acquire(ctx)
			if err != nil && ctx.Err() == nil {
				slog.Warn("webhooks: lease", "err", err)
			}
			held, renewed = err == nil && epoch > 0, time.Now()
			return held
		},
	})
}

// announceSignUps emits member.created for each member whose sign-up is
// still marked (member.Member.Unannounced), then clears the mark.
func (m *Main) announceSignUps(ctx context.Context) error {
	return sweep(ctx, m.webhooks, m.members.Unannounced, func(mb *member.Member) webhook.Event {
		return webhook.Event{Type: webhook.MemberCreated, Cause: mb.ID.Hex(), At: mb.CreatedAt, Data: map[string]any{
			"member": webhook.Ref{Type: "Member", ID: mb.ID.Hex()}, "email": mb.Email, "displayName": mb.DisplayName,
			"timezone": mb.Timezone, "marketingConsent": mb.MarketingConsent, "createdAt": mb.CreatedAt,
		}}
	}, func(ctx context.Context, mb *member.Member) error { return m.members.Announced(ctx, mb.ID) })
}

// announceRSVPChanges emits rsvp.changed for each RSVP whose last status
// change is still marked (rsvp.RSVP.Unannounced), keyed by the RSVP and
// its change number. Changes made between two sweeps are announced as the
// state they led to, under the last change's number.
func (m *Main) announceRSVPChanges(ctx context.Context) error {
	return sweep(ctx, m.webhooks, m.rsvps.Jobs().Unannounced, func(r *rsvp.RSVP) webhook.Event {
		return webhook.Event{Type: webhook.RSVPChanged, Cause: r.ID + ":" + strconv.FormatInt(r.Changes, 10), At: r.UpdatedAt,
			Data: map[string]any{
				"event": webhook.Ref{Type: "Event", ID: r.EventID.Hex()}, "member": webhook.Ref{Type: "Member", ID: r.MemberID.Hex()},
				"status": r.Status, "guests": r.Guests, "change": r.Changes,
			}}
	}, m.rsvps.Jobs().Announced)
}

// sweep emits the webhook event of each document (up to 200) that unannounced
// lists as still marked, then clears its mark with announced: a crash
// between the two emits again, under the same event id (its cause).
func sweep[T any](ctx context.Context, w *webhook.Service, unannounced func(context.Context, int) ([]T, error),
	event func(T) webhook.Event, announced func(context.Context, T) error) error {
	items, err := unannounced(ctx, 200)
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := w.Emit(ctx, event(it)); err != nil {
			return err
		}
		if err := announced(ctx, it); err != nil {
			return err
		}
	}
	return nil
}
