package member

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/page"
)

// MinSearch and MaxSearch bound a search text, in characters: one letter
// would match a large share of members, and the match is a prefix.
const (
	MinSearch = 2
	MaxSearch = 100
)

// Search is a brand team's look-up of members.
type Search struct {
	// Text matches the start of a member's email (in its canonical form,
	// so "Alice@Example.com" finds alice@example.com) or of their display
	// name, regardless of case. Empty lists every member.
	Text string
	// ID, when set, also matches the member with that id (the API layer
	// sets it when Text is an opaque member id).
	ID bson.ObjectID
}

// nameKey is the form of a display name that search compares: NFC,
// case-folded (Unicode full case folding, so "Straße" finds "STRASSE").
func nameKey(displayName string) string {
	return norm.NFC.String(cases.Fold().String(displayName))
}

// Search pages members matching q by id, oldest first: at most limit
// members after the id given (zero: from the start), and whether more
// follow. Errors: an input error on "search" when the text is shorter
// than MinSearch or longer than MaxSearch characters.
//
// Only those who manage members may search (ErrListBrandOnly otherwise):
// it reads every member's address.
func (s *Service) Search(ctx context.Context, p Principal, q Search, after bson.ObjectID, limit int) ([]*Member, bool, error) {
	if !p.ManagesMembers() {
		return nil, false, ErrListBrandOnly
	}
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}}
	if text := strings.TrimSpace(q.Text); text != "" {
		n := utf8.RuneCountInString(text)
		if !utf8.ValidString(text) || n < MinSearch || n > MaxSearch {
			return nil, false, input.Errorf("search", "must be %d to %d characters, got %d", MinSearch, MaxSearch, n)
		}
		or := bson.A{
			bson.D{{Key: "nameKey", Value: prefix(nameKey(text))}},
			bson.D{{Key: "email", Value: prefix(emailPrefix(text))}},
		}
		if !q.ID.IsZero() {
			or = append(or, bson.D{{Key: "_id", Value: q.ID}})
		}
		filter = append(filter, bson.E{Key: "$or", Value: or})
	}
	return page.Find[*Member](ctx, s.members.c, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}), limit)
}

// emailPrefix is how the start of an address is stored: lower-case, NFC
// (NormalizeEmail's form; a partial domain cannot go through IDNA, so a
// search by a non-ASCII domain needs its xn-- form).
func emailPrefix(text string) string { return norm.NFC.String(strings.ToLower(text)) }

// prefix matches values that start with s. An anchored, case-sensitive
// regular expression is a range scan of the index on MongoDB.
func prefix(s string) bson.Regex { return bson.Regex{Pattern: "^" + regexp.QuoteMeta(s)} }

// backfillNameKeys gives members stored before search existed their
// nameKey; the index on nameKey finds them, so it is cheap once done.
func (s *Service) backfillNameKeys(ctx context.Context) error {
	for {
		cur, err := s.members.c.Find(ctx, bson.D{{Key: "nameKey", Value: nil}},
			options.Find().SetLimit(500).SetProjection(bson.D{{Key: "displayName", Value: 1}}))
		if err != nil {
			return err
		}
		var page []struct {
			ID          bson.ObjectID `bson:"_id"`
			DisplayName string        `bson:"displayName"`
		}
		if err := cur.All(ctx, &page); err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, m := range page {
			// Conditional on the name read, so a profile change in between wins.
			if _, err := s.members.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: m.ID}, {Key: "displayName", Value: m.DisplayName}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "nameKey", Value: nameKey(m.DisplayName)}}}}); err != nil {
				return err
			}
		}
	}
}

// ByDisplayNames returns the members whose display name is one of names,
// compared as search compares them (case-folded), at most limit; backed by
// the nameKey index. Community mentions (@name) find their members with it.
func (s *Service) ByDisplayNames(ctx context.Context, names []string, limit int) ([]*Member, error) {
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = nameKey(n)
	}
	cur, err := s.members.c.Find(ctx, bson.D{{Key: "nameKey", Value: bson.D{{Key: "$in", Value: keys}}}}, options.Find().SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var ms []*Member
	return ms, cur.All(ctx, &ms)
}
