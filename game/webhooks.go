package game

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/webhook"
)

// Webhooks records events for the brand's endpoints (webhook.Service):
// Emit is keyed by the event's cause, so the effects path may emit again.
type Webhooks interface {
	Emit(ctx context.Context, e webhook.Event) error
}

// SetWebhooks makes the effects path emit webhook events to h (nil: none);
// rewards emit theirs through it too. Set before serving.
func (s *Service) SetWebhooks(h Webhooks) {
	s.hooks = h
	s.rewards.SetWebhooks(h)
	s.offers.Webhooks = h
}

func memberRef(id bson.ObjectID) webhook.Ref { return webhook.Ref{Type: "Member", ID: id.Hex()} }

// emitHooks emits what the cause in fx did: activity.recorded for an
// activity, tier.changed for each entry that moved a tier (as its
// TIER_CHANGED notification does, and a new member's first move up
// from the first tier), badge.unlocked for each badge level
// announced. Each is keyed by its cause, so a replay emits nothing new.
func (s *Service) emitHooks(ctx context.Context, p *program.Program, fx *effects) error {
	if s.hooks == nil {
		return nil
	}
	if a := fx.activity; a != nil {
		data := map[string]any{
			"activity": webhook.Ref{Type: "Activity", ID: a.ID.Hex()}, "member": memberRef(a.MemberID),
			"kind": a.Kind, "externalId": a.ExternalID, "occurredAt": a.OccurredAt,
		}
		if a.AmountMinor != 0 {
			data["amountMinor"], data["currency"] = a.AmountMinor, a.Currency
		}
		var points int64
		for _, e := range fx.entries {
			if e.MemberID == a.MemberID && e.Source.Kind == ledger.SourceActivity && e.Source.ID == a.ID.Hex() {
				points += e.Amount
			}
		}
		data["points"] = points
		if err := s.hooks.Emit(ctx, webhook.Event{Type: webhook.ActivityRecorded, Cause: a.ID.Hex(), At: a.CreatedAt, Data: data}); err != nil {
			return err
		}
	}
	for _, e := range fx.entries {
		if e.TierChange == nil || e.TierChange.To == "" || e.TierChange.From == e.TierChange.To {
			continue
		}
		from := e.TierChange.From
		if from == "" && len(p.Tiers) > 0 {
			from = p.Tiers[0].Name // a new member starts in the first tier
		}
		if err := s.hooks.Emit(ctx, webhook.Event{Type: webhook.TierChanged, Cause: e.ID.Hex(), At: e.CreatedAt, Data: map[string]any{
			"member": memberRef(e.MemberID), "from": from, "to": e.TierChange.To,
			"ledgerEntry": webhook.Ref{Type: "LedgerEntry", ID: e.ID.Hex()},
		}}); err != nil {
			return err
		}
	}
	for _, m := range fx.notes {
		if m.Kind != inbox.KindBadgeUnlocked || m.Related == nil {
			continue
		}
		level, _ := m.Data["level"].(string)
		if err := s.hooks.Emit(ctx, webhook.Event{Type: webhook.BadgeUnlocked, Cause: m.MemberID.Hex() + ":" + m.Key, Data: map[string]any{
			"member": memberRef(m.MemberID), "badge": webhook.Ref{Type: "Badge", ID: m.Related.ID}, "level": level,
		}}); err != nil {
			return err
		}
	}
	return nil
}
