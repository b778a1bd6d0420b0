package graph

import (
	"context"
	"fmt"
	"github.com/regulars/regulars/graph/model"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/forum"
	"github.com/regulars/regulars/community/moderation"
	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/engagement"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/offer"
	"github.com/regulars/regulars/game/reward"
	"github.com/regulars/regulars/game/rules/dryrun"
	"github.com/regulars/regulars/game/rules/ruleset"
	"github.com/regulars/regulars/graph/relay"
	"github.com/regulars/regulars/graph/request"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/webhook"
)

// maxNodes caps nodes(ids:): a page's worth, like first on connections.
const maxNodes = relay.MaxFirst

// idsOf is the database ids of refs.
func idsOf(refs []nodeRef) []bson.ObjectID {
	ids := make([]bson.ObjectID, len(refs))
	for i, ref := range refs {
		ids[i] = ref.id
	}
	return ids
}

// nodeRef is one id asked for: as the client sent it, and decoded.
type nodeRef struct {
	raw string
	id  bson.ObjectID
}

// A nodeLookup resolves ids of one type, in one batch: a node or an error
// for each. A caller who may not see an object gets the type's NOT_FOUND
// error, exactly as for one that does not exist.
//
// Each decides visibility with the rules of the type's own queries: the
// @auth rule of the root field that serves the type (checked by mayCall,
// the authorizer's own function), then that field's resolver where there is
// one, or the domain's policy function those queries share (owned), so a
// rule changed there changes here too.
type nodeLookup func(r *Resolver, ctx context.Context, refs []nodeRef) ([]model.Node, []error)

// nodeLookups has an entry for every type that implements Node; the
// schema test checks none is missing.
var nodeLookups = map[string]nodeLookup{
	"Member":         (*Resolver).memberNodes,
	"PublicMember":   (*Resolver).publicMemberNodes,
	"Notification":   (*Resolver).notificationNodes,
	"Activity":       (*Resolver).activityNodes,
	"LedgerEntry":    (*Resolver).ledgerEntryNodes,
	"Reward":         (*Resolver).rewardNodes,
	"Redemption":     (*Resolver).redemptionNodes,
	"Badge":          (*Resolver).badgeNodes,
	"Offer":          (*Resolver).offerNodes,
	"Event":          (*Resolver).eventNodes,
	"Space":          (*Resolver).spaceNodes,
	"Thread":         (*Resolver).threadNodes,
	"Post":           (*Resolver).postNodes,
	"WatchedWord":    (*Resolver).watchedWordNodes,
	"EarningRule":    (*Resolver).earningRuleNodes,
	"RuleSimulation": (*Resolver).ruleSimulationNodes,
	// Webhooks (graph/webhookgql).
	"Webhook":         (*Resolver).webhookNodes,
	"WebhookDelivery": (*Resolver).webhookDeliveryNodes,
}

// decodeNodeID reads an id of any Node type given in argument field.
func decodeNodeID(field, s string) (string, bson.ObjectID, error) {
	if typ := relay.TypeOf(s); nodeLookups[typ] != nil {
		id, err := relay.DecodeID(typ, field, s)
		return typ, id, err
	}
	return "", bson.ObjectID{}, input.Errorf(field, "is not an id of this API")
}

// resolveNodes resolves ids of any types, one batch per type, in order.
// A malformed id refuses the whole call, naming the field (id or ids[i]).
func (r *Resolver) resolveNodes(ctx context.Context, field string, ids []string) ([]model.Node, []error, error) {
	type group struct {
		refs []nodeRef
		at   []int
	}
	groups := map[string]*group{}
	var order []string
	for i, s := range ids {
		name := field
		if len(ids) > 1 || field == "ids" {
			name = fmt.Sprintf("%s[%d]", field, i)
		}
		typ, id, err := decodeNodeID(name, s)
		if err != nil {
			return nil, nil, err
		}
		g := groups[typ]
		if g == nil {
			g = &group{}
			groups[typ] = g
			order = append(order, typ)
		}
		g.refs = append(g.refs, nodeRef{raw: s, id: id})
		g.at = append(g.at, i)
	}
	nodes, errs := make([]model.Node, len(ids)), make([]error, len(ids))
	for _, typ := range order {
		g := groups[typ]
		ns, es := nodeLookups[typ](r, ctx, g.refs)
		for j, i := range g.at {
			if es[j] != nil {
				errs[i] = es[j]
			} else {
				nodes[i] = ns[j]
			}
		}
	}
	return nodes, errs, nil
}

// addItemError reports err on item i of the list field being resolved.
func addItemError(ctx context.Context, i int, err error) {
	path := append(graphql.GetPath(ctx), ast.PathIndex(i))
	graphql.AddError(ctx, &gqlerror.Error{Err: err, Message: err.Error(), Path: path})
}

// mayCall says whether the caller may call the root field of root (Query,
// Mutation) by its @auth or @public rule.
func mayCall(ctx context.Context, root *ast.Definition, field string) bool {
	def := root.Fields.ForName(field)
	return def != nil && allowed(member.PrincipalFrom(ctx), def) == nil
}

// each resolves refs one by one with get.
func each(refs []nodeRef, get func(nodeRef) (model.Node, error)) ([]model.Node, []error) {
	ns, errs := make([]model.Node, len(refs)), make([]error, len(refs))
	for i, ref := range refs {
		ns[i], errs[i] = get(ref)
	}
	return ns, errs
}

// owned resolves refs from a batch fetch (values in the order of the ids,
// nil when missing): an object is visible to the caller when the domain's
// policy says they may read it (mayRead), else it is notFound.
func owned[T any](ctx context.Context, refs []nodeRef, fetch func(context.Context, []bson.ObjectID) ([]*T, error), mayRead func(member.Principal, *T) bool, notFound error) ([]model.Node, []error) {
	found, err := fetch(ctx, idsOf(refs))
	p := member.PrincipalFrom(ctx)
	ns, errs := make([]model.Node, len(refs)), make([]error, len(refs))
	for i := range refs {
		switch {
		case err != nil:
			errs[i] = err
		case found[i] == nil || !mayRead(p, found[i]):
			errs[i] = notFound
		default:
			ns[i] = found[i]
		}
	}
	return ns, errs
}

// mayReadMembers is member.Principal.MayRead for what belongs to one
// member: the member themself, and the brand (who may read any member).
func mayReadMembers[T any](owner func(*T) bson.ObjectID) func(member.Principal, *T) bool {
	return func(p member.Principal, x *T) bool { return p.MayRead(owner(x)) == nil }
}

// Member: the caller's own (me), or any for who may call member(id:).
func (r *Resolver) memberNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	request.PrimeMembers(ctx, idsOf(refs))
	q, me, brand := resolverRoot{r}.Query(), member.PrincipalFrom(ctx).MemberID, mayCall(ctx, parsedSchema.Query, "member")
	return each(refs, func(ref nodeRef) (model.Node, error) {
		switch {
		case ref.id == me && mayCall(ctx, parsedSchema.Query, "me"):
			return q.Me(ctx)
		case brand:
			return q.Member(ctx, ref.raw)
		}
		return nil, member.ErrNotFound
	})
}

// PublicMember: whom leaderboards show (members who did not opt out), and
// the caller's own standing, as leaderboard and myRank do.
func (r *Resolver) publicMemberNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	request.PrimeMembers(ctx, idsOf(refs))
	caller := member.PrincipalFrom(ctx)
	return each(refs, func(ref nodeRef) (model.Node, error) {
		if !mayCall(ctx, parsedSchema.Query, "leaderboard") {
			return nil, member.ErrNotFound
		}
		m, err := request.LoadMember(ctx, ref.id)
		if err != nil {
			return nil, err
		}
		if ok, err := r.Rooms.Referrals.MaySeePublicMember(ctx, caller, ref.id); err != nil {
			return nil, err
		} else if !ok {
			return nil, member.ErrNotFound
		}
		return &model.PublicMember{Member: m}, nil
	})
}

// Notification: the caller's own inbox, as notifications shows it.
func (r *Resolver) notificationNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	me := member.PrincipalFrom(ctx).MemberID
	fetch := func(ctx context.Context, ids []bson.ObjectID) ([]*inbox.Notification, error) {
		if me.IsZero() || !mayCall(ctx, parsedSchema.Query, "notifications") {
			return make([]*inbox.Notification, len(ids)), nil
		}
		return r.Inbox.ByID(ctx, me, ids)
	}
	return owned(ctx, refs, fetch, func(p member.Principal, n *inbox.Notification) bool { return n.ReadableBy(p.MemberID) }, inbox.ErrNotFound)
}

// Activity: the member's own (checkIn returns them), every one for the
// brand (recordActivity returns them to it).
func (r *Resolver) activityNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	return owned(ctx, refs, r.Rooms.Activities.ByIDs, mayReadMembers(func(a *activity.Activity) bson.ObjectID { return a.MemberID }),
		activity.ErrNotFound)
}

// LedgerEntry: the member's own ledger (me), every one for the brand, who
// reads any member's ledger (member(id:)).
func (r *Resolver) ledgerEntryNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	return owned(ctx, refs, r.Rooms.Ledger.EntriesByID, mayReadMembers(func(e *ledger.Entry) bson.ObjectID { return e.MemberID }),
		ledger.ErrEntryNotFound)
}

// Redemption: the member's own (myRedemptions), every one for the brand
// (cancelRedemption returns them to it).
func (r *Resolver) redemptionNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	mine := mayCall(ctx, parsedSchema.Query, "myRedemptions")
	fetch := func(ctx context.Context, ids []bson.ObjectID) ([]*reward.Redemption, error) {
		if !mine {
			return make([]*reward.Redemption, len(ids)), nil
		}
		return r.Game.Rewards().RedemptionsByID(ctx, ids)
	}
	return owned(ctx, refs, fetch, mayReadMembers(func(rd *reward.Redemption) bson.ObjectID { return rd.MemberID }),
		reward.ErrRedemptionNotFound)
}

// Reward: through reward(id:), after one batch of the operation's loader.
func (r *Resolver) rewardNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	request.PrimeRewards(ctx, idsOf(refs))
	return each(refs, func(ref nodeRef) (model.Node, error) {
		if !mayCall(ctx, parsedSchema.Query, "reward") {
			return nil, reward.ErrRewardNotFound
		}
		return nonNil(resolverRoot{r}.Query().Reward(ctx, ref.raw))
	})
}

// Badge: among what badges shows the caller (secret ones once earned).
func (r *Resolver) badgeNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	var visible []*engagement.Badge
	var err error
	if mayCall(ctx, parsedSchema.Query, "badges") {
		visible, err = resolverRoot{r}.Query().Badges(ctx)
	}
	return each(refs, func(ref nodeRef) (model.Node, error) {
		if err != nil {
			return nil, err
		}
		for _, b := range visible {
			if b.ID == ref.id {
				return b, nil
			}
		}
		return nil, engagement.ErrBadgeNotFound
	})
}

// Offer: through offer(id:) for who may call it (the brand), otherwise
// among the offers the signed-in member is offered now (offers).
func (r *Resolver) offerNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	q := resolverRoot{r}.Query()
	if mayCall(ctx, parsedSchema.Query, "offer") {
		return each(refs, func(ref nodeRef) (model.Node, error) { return nonNil(q.Offer(ctx, ref.raw)) })
	}
	var offered []*offer.Offer
	var err error
	if !member.PrincipalFrom(ctx).MemberID.IsZero() && mayCall(ctx, parsedSchema.Query, "offers") {
		offered, err = q.Offers(ctx)
	}
	return each(refs, func(ref nodeRef) (model.Node, error) {
		if err != nil {
			return nil, err
		}
		for _, o := range offered {
			if o.ID == ref.id {
				return o, nil
			}
		}
		return nil, offer.ErrOfferNotFound
	})
}

// nonNil turns a typed nil into a nil Node, so a list holds a true null.
func nonNil[T any](v *T, err error) (model.Node, error) {
	if v == nil || err != nil {
		return nil, err
	}
	return v, nil
}

// eventNodes shows events as event(id:) does.
func (r *Resolver) eventNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	q := resolverRoot{r}.Query()
	return each(refs, func(ref nodeRef) (model.Node, error) { return nonNil(q.Event(ctx, ref.raw)) })
}

// Space, Thread, Post: what spaces, threads and posts show the caller (a
// space they may read; a removed thread to its moderators only).
func (r *Resolver) spaceNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	return each(refs, func(ref nodeRef) (model.Node, error) {
		if !mayCall(ctx, parsedSchema.Query, "spaces") {
			return nil, forum.ErrSpaceNotFound
		}
		return nonNil(r.Community.Space(ctx, member.PrincipalFrom(ctx), ref.id))
	})
}

func (r *Resolver) threadNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	return each(refs, func(ref nodeRef) (model.Node, error) {
		if !mayCall(ctx, parsedSchema.Query, "threads") {
			return nil, forum.ErrThreadNotFound
		}
		t, _, err := r.Community.Thread(ctx, member.PrincipalFrom(ctx), ref.id)
		return nonNil(t, err)
	})
}

func (r *Resolver) postNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	return each(refs, func(ref nodeRef) (model.Node, error) {
		if !mayCall(ctx, parsedSchema.Query, "posts") {
			return nil, forum.ErrPostNotFound
		}
		p, _, err := r.Community.Post(ctx, member.PrincipalFrom(ctx), ref.id)
		return nonNil(p, err)
	})
}

func (r *Resolver) watchedWordNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	return each(refs, func(ref nodeRef) (model.Node, error) {
		if !mayCall(ctx, parsedSchema.Query, "watchedWords") {
			return nil, moderation.ErrWordNotFound
		}
		return nonNil(r.Community.Moderation().WatchedWord(ctx, member.PrincipalFrom(ctx), ref.id))
	})
}

// earningRuleNodes and ruleSimulationNodes show rules and dry runs as
// their own queries do (BRAND).
func (r *Resolver) earningRuleNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	q := resolverRoot{r}.Query()
	return each(refs, func(ref nodeRef) (model.Node, error) {
		if !mayCall(ctx, parsedSchema.Query, "earningRule") {
			return nil, ruleset.ErrRuleNotFound
		}
		return nonNil(q.EarningRule(ctx, ref.raw))
	})
}

func (r *Resolver) ruleSimulationNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	q := resolverRoot{r}.Query()
	return each(refs, func(ref nodeRef) (model.Node, error) {
		if !mayCall(ctx, parsedSchema.Query, "ruleSimulation") {
			return nil, dryrun.ErrSimulationNotFound
		}
		return nonNil(q.RuleSimulation(ctx, ref.raw))
	})
}

// webhookNodes shows webhooks to whoever may call webhooks (BRAND).
func (r *Resolver) webhookNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	return each(refs, func(ref nodeRef) (model.Node, error) {
		if !mayCall(ctx, parsedSchema.Query, "webhooks") {
			return nil, webhook.ErrEndpointNotFound
		}
		return nonNil(r.WebhookService.Endpoint(ctx, ref.id))
	})
}

// webhookDeliveryNodes shows deliveries to whoever may call webhookDeliveries (BRAND).
func (r *Resolver) webhookDeliveryNodes(ctx context.Context, refs []nodeRef) ([]model.Node, []error) {
	return each(refs, func(ref nodeRef) (model.Node, error) {
		if !mayCall(ctx, parsedSchema.Query, "webhookDeliveries") {
			return nil, webhook.ErrDeliveryNotFound
		}
		return nonNil(r.WebhookService.Delivery(ctx, ref.id))
	})
}
