package relay

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/moderation"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/inbox"
)

// relatedTypes maps what a notification can be about (inbox.RelatedKinds)
// to the API type whose id the client is given; a test checks every kind
// has one, and that the type is a Node.
var relatedTypes = map[string]string{
	inbox.RelatedActivity:    "Activity",
	inbox.RelatedLedgerEntry: "LedgerEntry",
	inbox.RelatedReward:      "Reward",
	inbox.RelatedRedemption:  "Redemption",
	inbox.RelatedBadge:       "Badge",
	inbox.RelatedOffer:       "Offer",
	inbox.RelatedEvent:       "Event",
	inbox.RelatedPost:        "Post",
}

// PublicRelated gives rel with the opaque id of its object: the domain
// stores database ids, and none leaves the API.
func PublicRelated(rel *inbox.Related) *inbox.Related {
	if rel == nil {
		return nil
	}
	id, err := bson.ObjectIDFromHex(rel.ID)
	typ, known := relatedTypes[rel.Kind]
	if err != nil || !known {
		return nil // nothing the client could open
	}
	return &inbox.Related{Kind: rel.Kind, ID: EncodeID(typ, id)}
}

// PublicDeepLink is n's deep link with the database id of what it is about
// replaced by the opaque id the API accepts (app://offers/<id> opens the
// offer that offer(id:) returns), also in notifications stored before.
func PublicDeepLink(n *inbox.Notification) string {
	if n.Related == nil || n.DeepLink == "" {
		return n.DeepLink
	}
	if pub := PublicRelated(n.Related); pub != nil {
		return strings.ReplaceAll(n.DeepLink, n.Related.ID, pub.ID)
	}
	return n.DeepLink
}

// sourceTypes maps each ledger.SourceKind to the API type of the object
// its Source.ID names; "" where there is none (the id is a key). A test
// checks every kind is here and each type is a Node.
var sourceTypes = map[ledger.SourceKind]string{
	ledger.SourceActivity:     "Activity",
	ledger.SourceRedemption:   "Redemption",
	ledger.SourceReferral:     "Activity",
	ledger.SourceAdjustment:   "",
	ledger.SourceLot:          "LedgerEntry",
	ledger.SourceBirthday:     "Activity",
	ledger.SourceBadge:        "Badge",
	ledger.SourceOffer:        "Offer",
	ledger.SourceStreakFreeze: "",
	ledger.SourceEvent:        "Event",
	ledger.SourcePost:         "Post",
}

// logTargetTypes maps what a moderation log entry is about
// (moderation.TargetKinds) to the API type of its id; a test checks every
// kind is here and each type is a Node.
var logTargetTypes = map[string]string{
	moderation.TargetPost:        "Post",
	moderation.TargetThread:      "Thread",
	moderation.TargetMember:      "Member",
	moderation.TargetSpace:       "Space",
	moderation.TargetWatchedWord: "WatchedWord",
}

// PublicLogTarget is the API id of what a log entry is about ("" if the
// stored target is not a database id of a known kind).
func PublicLogTarget(kind, id string) string {
	oid, err := bson.ObjectIDFromHex(id)
	typ, ok := logTargetTypes[kind]
	if err != nil || !ok {
		return ""
	}
	return EncodeID(typ, oid)
}

// SourceType is the API type of the object a ledger source of kind names,
// "" for a kind whose id is a key; false for a kind not mapped.
func SourceType(kind ledger.SourceKind) (string, bool) {
	typ, ok := sourceTypes[kind]
	return typ, ok
}

// PublicSourceID is the API id of what caused an entry, nil when the
// cause is no object (an adjustment, a campaign) or is stored by a key.
func PublicSourceID(src *ledger.Source) *string {
	typ := sourceTypes[src.Kind]
	id, err := bson.ObjectIDFromHex(src.ID)
	if typ == "" || err != nil {
		return nil
	}
	pub := EncodeID(typ, id)
	return &pub
}
