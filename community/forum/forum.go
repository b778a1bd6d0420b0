// Package forum keeps the community's content: spaces, threads, posts and
// reactions (collections community_spaces, community_threads,
// community_posts, community_reactions, community_limits). It checks the
// shape of what members write (markup.go) and stores it; who may do what,
// moderation and the economy are package community's and
// community/moderation's.
//
// Invariants rest on unique indexes and single-document conditional
// updates: a post's number in its thread is claimed by a unique insert, a
// reaction is a document unique per (post, member, reaction) whose insert
// or delete alone moves the post's count, and every moderation change of
// a post or thread is made on the revision it was decided on (modRev).
package forum

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/fault"
)

var (
	ErrSpaceNotFound  = fault.New(fault.NotFound, "space not found")
	ErrThreadNotFound = fault.New(fault.NotFound, "thread not found")
	ErrPostNotFound   = fault.New(fault.NotFound, "post not found")
	ErrLocked         = fault.New(fault.Forbidden, "this thread is locked: no new replies")
	ErrEditWindow     = fault.New(fault.Forbidden, "the time to edit this post is over")
	ErrNotAuthor      = fault.New(fault.Forbidden, "only the post's author may do this")
	ErrGone           = fault.New(fault.Conflict, "this post was deleted or removed")
	ErrSlowMode       = fault.New(fault.RateLimited, "slow mode: wait before posting again in this space")
	ErrDailyPosts     = fault.New(fault.RateLimited, "new members may post only a few times a day; try again tomorrow")
	ErrContended      = fault.New(fault.Conflict, "too many replies at once in this thread; try again")
	ErrEditRace       = fault.New(fault.Conflict, "the post changed while you edited it; read it again")
)

// AudienceKind says who an audience is.
type AudienceKind string

const (
	AudienceEveryone AudienceKind = "EVERYONE"
	AudienceTiers    AudienceKind = "TIERS" // members in one of Tiers
	AudienceBadge    AudienceKind = "BADGE" // members holding Badge
)

// Audience is who may read or post in a space.
type Audience struct {
	Kind  AudienceKind   `bson:"kind"`
	Tiers []string       `bson:"tiers,omitempty"`
	Badge *bson.ObjectID `bson:"badge,omitempty"`
}

// Space is a place the brand opens for threads ("Rides", "Gold lounge").
type Space struct {
	ID          bson.ObjectID `bson:"_id"`
	Name        string        `bson:"name"`
	Description string        `bson:"description"`
	Read        Audience      `bson:"read"`
	Post        Audience      `bson:"post"`
	// SlowModeSeconds: one post per member per this many seconds; 0: off.
	SlowModeSeconds int `bson:"slowModeSeconds"`
	// Moderators are members appointed to moderate this space only.
	Moderators []bson.ObjectID `bson:"moderators"`
	CreatedAt  time.Time       `bson:"createdAt"`
}

// Thread is a conversation in a space; its first post is its body.
type Thread struct {
	ID       bson.ObjectID `bson:"_id"`
	SpaceID  bson.ObjectID `bson:"spaceId"`
	AuthorID bson.ObjectID `bson:"authorId"`
	Title    string        `bson:"title"`
	// Pinned threads list first (1) in every order.
	Pinned int  `bson:"pinned"`
	Locked bool `bson:"locked"`
	// Posts counts its posts, first included; Score is posts + reactions (TOP).
	Posts      int64     `bson:"posts"`
	Score      int64     `bson:"score"`
	LastPostAt time.Time `bson:"lastPostAt"`
	CreatedAt  time.Time `bson:"createdAt"`
	// Removed is set when a moderator deleted the thread's first post.
	Removed bool `bson:"removed,omitempty"`
	// ModRev is the revision of its moderation state (lock, pin, move).
	ModRev int64       `bson:"modRev"`
	Last   *Moderation `bson:"lastModeration,omitempty"`
}

// PostStatus is where a post stands.
type PostStatus string

const (
	PostVisible  PostStatus = "VISIBLE"
	PostPending  PostStatus = "PENDING_APPROVAL" // held by a watched word until a moderator approves
	PostHidden   PostStatus = "HIDDEN"           // hidden by flags or a moderator, pending review
	PostDeleted  PostStatus = "DELETED"          // deleted by its author
	PostRemoved  PostStatus = "REMOVED"          // deleted by a moderator
	maxPostsTrip            = 1000
)

// Reaction is one of the fixed set.
type Reaction string

const (
	ReactionLike  Reaction = "LIKE"
	ReactionLove  Reaction = "LOVE"
	ReactionFire  Reaction = "FIRE"
	ReactionLaugh Reaction = "LAUGH"
)

// Reactions lists every reaction.
var Reactions = []Reaction{ReactionLike, ReactionLove, ReactionFire, ReactionLaugh}

// Edit is an earlier version of a post's body, kept when it is edited.
type Edit struct {
	Body     string    `bson:"body"`
	Images   []string  `bson:"images,omitempty"`
	EditedAt time.Time `bson:"editedAt"` // when this version was replaced
}

// Moderation is the last moderation action on a post or thread: what a
// moderator who lost a race is told.
type Moderation struct {
	Action string        `bson:"action"`
	By     bson.ObjectID `bson:"by"`
	At     time.Time     `bson:"at"`
}

// Post is a thread's first post or a reply. Number orders it in its
// thread (1 is the thread's body) and is what cursors hold.
type Post struct {
	ID       bson.ObjectID   `bson:"_id"`
	ThreadID bson.ObjectID   `bson:"threadId"`
	SpaceID  bson.ObjectID   `bson:"spaceId"`
	Number   int64           `bson:"number"`
	AuthorID bson.ObjectID   `bson:"authorId"`
	Body     string          `bson:"body"`
	Images   []string        `bson:"images,omitempty"`
	Mentions []bson.ObjectID `bson:"mentions,omitempty"`
	QuoteID  *bson.ObjectID  `bson:"quoteId,omitempty"`
	Status   PostStatus      `bson:"status"`
	// Reactions counts each reaction; moved only with its reaction documents.
	Reactions map[Reaction]int64 `bson:"reactions"`
	// ReactionsAt is when a reaction to it last began or was counted,
	// ReactionsRev counts those writes: the recount (ReactionStore.Recount)
	// finds recently changed posts by the one and repairs on the other.
	ReactionsAt  *time.Time `bson:"reactionsAt,omitempty"`
	ReactionsRev int64      `bson:"reactionsRev,omitempty"`
	// FlagScore sums the weights of its flags (community/moderation).
	FlagScore int64       `bson:"flagScore"`
	History   []Edit      `bson:"history,omitempty"`
	EditedAt  *time.Time  `bson:"editedAt,omitempty"`
	CreatedAt time.Time   `bson:"createdAt"`
	ModRev    int64       `bson:"modRev"`
	Last      *Moderation `bson:"lastModeration,omitempty"`
}

// Shown reports whether readers other than its author and moderators see
// the post's words.
func (p *Post) Shown() bool { return p.Status == PostVisible }
