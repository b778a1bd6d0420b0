package graph

import (
	"slices"
	"testing"

	"github.com/regulars/regulars/graph/relay"

	"github.com/vektah/gqlparser/v2/ast"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/input"
)

// Every object type with an id is a Node, and node(id:) knows how to look
// up every Node type: a type added without either fails here.
func TestEveryTypeWithAnIDIsANode(t *testing.T) {
	schema := Schema()
	for _, def := range schema.Types {
		if def.Kind != ast.Object || def.BuiltIn || slices.Contains([]string{"Query", "Mutation", "Subscription"}, def.Name) {
			continue
		}
		f := def.Fields.ForName("id")
		isNode := slices.Contains(def.Interfaces, "Node")
		// A reference to an object (what caused a ledger entry) holds that
		// object's id; it is not an object itself.
		ref := slices.Contains([]string{"LedgerSource"}, def.Name)
		if f != nil && f.Type.Name() == "ID" && !isNode && !ref {
			t.Errorf("%s has an id: it must implement Node", def.Name)
		}
		if isNode != (nodeLookups[def.Name] != nil) {
			t.Errorf("%s: implements Node %v, has a node lookup %v", def.Name, isNode, nodeLookups[def.Name] != nil)
		}
	}
	for name := range nodeLookups {
		if schema.Types[name] == nil {
			t.Errorf("node lookup for %s, which is not in the schema", name)
		}
	}
}

func TestDecodeNodeID(t *testing.T) {
	id := bson.NewObjectID()
	for typ := range nodeLookups {
		got, oid, err := decodeNodeID("id", relay.EncodeID(typ, id))
		if err != nil || got != typ || oid != id {
			t.Errorf("%s: %s %v %v", typ, got, oid, err)
		}
	}
	for _, bad := range []string{"", "x", id.Hex(), relay.EncodeID("Standing", id), relay.EncodeCursor("ledger", 3)} {
		if _, _, err := decodeNodeID("ids[2]", bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if in, ok := input.As(err); !ok || in.Field != "ids[2]" {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
