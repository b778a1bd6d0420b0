package graph

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/moderation"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/graph/relay"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/texts"
)

// Every kind of thing a notification can be about is given to clients as
// the id of a Node type, which node(id:) and the type's queries accept.
func TestEveryRelatedKindHasAnAPIType(t *testing.T) {
	for _, kind := range inbox.RelatedKinds {
		raw := bson.NewObjectID()
		n := &inbox.Notification{DeepLink: "app://x/" + raw.Hex(), Related: &inbox.Related{Kind: kind, ID: raw.Hex()}}
		pub := relay.PublicRelated(n.Related)
		if pub == nil {
			t.Errorf("related kind %s has no API type", kind)
			continue
		}
		typ := relay.TypeOf(pub.ID)
		if nodeLookups[typ] == nil {
			t.Errorf("related kind %s: API type %q is not a Node", kind, typ)
		}
		if got, err := relay.DecodeID(typ, "id", pub.ID); err != nil || got != raw {
			t.Errorf("related %s: id %q does not decode as a %s id: %v", kind, pub.ID, typ, err)
		}
		if got := relay.PublicDeepLink(n); got != "app://x/"+pub.ID {
			t.Errorf("related %s: deep link %q still has the database id", kind, got)
		}
	}
}

// Every ledger source kind names an object of a Node type (or none), so
// source.id is an id the API accepts. Event and Post become Nodes with
// their domains; until then they may be absent from the schema.
func TestEveryLedgerSourceKindHasAnAPIType(t *testing.T) {
	for _, kind := range ledger.SourceKinds {
		typ, ok := relay.SourceType(kind)
		switch {
		case !ok:
			t.Errorf("ledger source kind %s has no API type (or \"\" for none)", kind)
		case typ == "":
			if relay.PublicSourceID(&ledger.Source{Kind: kind, ID: bson.NewObjectID().Hex()}) != nil {
				t.Errorf("source kind %s has no object, yet an id", kind)
			}
		case nodeLookups[typ] == nil:
			t.Errorf("source kind %s: type %s is not a Node", kind, typ)
		default:
			raw := bson.NewObjectID()
			got := relay.PublicSourceID(&ledger.Source{Kind: kind, ID: raw.Hex()})
			if id, err := relay.DecodeID(typ, "id", *got); err != nil || id != raw {
				t.Errorf("source kind %s: id %q is not a %s id: %v", kind, *got, typ, err)
			}
		}
	}
	if relay.PublicSourceID(&ledger.Source{Kind: ledger.SourceBirthday, ID: "campaign:2026"}) != nil {
		t.Error("a key, not an id, left the API as an id")
	}
}

// Every kind of moderation log target is given as the id of a Node type.
func TestEveryLogTargetKindHasAnAPIType(t *testing.T) {
	for _, kind := range moderation.TargetKinds {
		raw := bson.NewObjectID()
		pub := relay.PublicLogTarget(kind, raw.Hex())
		typ := relay.TypeOf(pub)
		if nodeLookups[typ] == nil {
			t.Errorf("log target %s: API type %q is not a Node", kind, typ)
		} else if id, err := relay.DecodeID(typ, "id", pub); err != nil || id != raw {
			t.Errorf("log target %s: %v", kind, err)
		}
	}
}

// Every template of package texts is in the schema's
// NotificationTemplateName, so the brand can list and override each one
// (a template missing there lists with an empty name and cannot be set).
func TestEveryTemplateIsInTheSchema(t *testing.T) {
	enum := Schema().Types["NotificationTemplateName"]
	if enum == nil {
		t.Fatal("no NotificationTemplateName in the schema")
	}
	for _, n := range texts.Names {
		if enum.EnumValues.ForName(string(n)) == nil {
			t.Errorf("template %s is not a NotificationTemplateName", n)
		}
	}
	if len(enum.EnumValues) != len(texts.Names) {
		t.Errorf("NotificationTemplateName has %d values, texts %d templates", len(enum.EnumValues), len(texts.Names))
	}
}
