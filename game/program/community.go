package program

import "github.com/regulars/regulars/input"

// CommunityRules tie the community (package community) to the program:
// what a post earns, how much a day, and how moderation and trust work.
// In the API they are flat fields of Program and ProgramInput.
type CommunityRules struct {
	// CommunityPostPoints is what a thread or a reply earns its author.
	CommunityPostPoints int64 `bson:"communityPostPoints"`
	// CommunityDailyPointCap bounds a member's community points per day of
	// their own timezone; 0: no cap.
	CommunityDailyPointCap int64 `bson:"communityDailyPointCap"`
	// CommunityFlagThreshold is the flag score at which a post is hidden
	// pending review (Discourse's "medium" sensitivity is about 8).
	CommunityFlagThreshold int64 `bson:"communityFlagThreshold"`
	// CommunityNewMemberDailyPosts is how many posts a member of the lowest
	// trust level may make per day.
	CommunityNewMemberDailyPosts int `bson:"communityNewMemberDailyPosts"`
	// CommunityEditWindowMinutes is how long an author may edit a post.
	CommunityEditWindowMinutes int `bson:"communityEditWindowMinutes"`
}

// DefaultCommunityRules: a small reward, a cap of five posts' worth a day,
// Discourse's medium hide threshold, ten posts a day for new members and a
// day to edit.
func DefaultCommunityRules() CommunityRules {
	return CommunityRules{CommunityPostPoints: 2, CommunityDailyPointCap: 10, CommunityFlagThreshold: 8,
		CommunityNewMemberDailyPosts: 10, CommunityEditWindowMinutes: 24 * 60}
}

// Bounds of the community rules.
const (
	MaxCommunityPostPoints          = 10_000
	MaxCommunityFlagThreshold       = 1000
	MaxCommunityNewMemberDailyPosts = 1000
	MaxCommunityEditWindowMinutes   = 60 * 24 * 365
)

func (c *CommunityRules) validate() error {
	// A program saved before these rules existed holds zeros: the defaults.
	if c.CommunityFlagThreshold == 0 {
		c.CommunityFlagThreshold = DefaultCommunityRules().CommunityFlagThreshold
	}
	if c.CommunityNewMemberDailyPosts == 0 {
		c.CommunityNewMemberDailyPosts = DefaultCommunityRules().CommunityNewMemberDailyPosts
	}
	switch {
	case c.CommunityPostPoints < 0 || c.CommunityPostPoints > MaxCommunityPostPoints:
		return input.Errorf("communityPostPoints", "must be between 0 and %d", MaxCommunityPostPoints)
	case c.CommunityDailyPointCap < 0 || c.CommunityDailyPointCap > MaxPoints:
		return input.Errorf("communityDailyPointCap", "must be between 0 and %d", MaxPoints)
	case c.CommunityFlagThreshold < 1 || c.CommunityFlagThreshold > MaxCommunityFlagThreshold:
		return input.Errorf("communityFlagThreshold", "must be between 1 and %d", MaxCommunityFlagThreshold)
	case c.CommunityNewMemberDailyPosts < 1 || c.CommunityNewMemberDailyPosts > MaxCommunityNewMemberDailyPosts:
		return input.Errorf("communityNewMemberDailyPosts", "must be between 1 and %d", MaxCommunityNewMemberDailyPosts)
	case c.CommunityEditWindowMinutes < 0 || c.CommunityEditWindowMinutes > MaxCommunityEditWindowMinutes:
		return input.Errorf("communityEditWindowMinutes", "must be between 0 and %d", MaxCommunityEditWindowMinutes)
	}
	return nil
}

// CommunityPatch changes some of the community rules.
type CommunityPatch struct {
	CommunityPostPoints          *int64
	CommunityDailyPointCap       *int64
	CommunityFlagThreshold       *int64
	CommunityNewMemberDailyPosts *int
	CommunityEditWindowMinutes   *int
}

func (pt CommunityPatch) apply(c *CommunityRules) {
	set(&c.CommunityPostPoints, pt.CommunityPostPoints)
	set(&c.CommunityDailyPointCap, pt.CommunityDailyPointCap)
	set(&c.CommunityFlagThreshold, pt.CommunityFlagThreshold)
	set(&c.CommunityNewMemberDailyPosts, pt.CommunityNewMemberDailyPosts)
	set(&c.CommunityEditWindowMinutes, pt.CommunityEditWindowMinutes)
}

// FlagThreshold is the hide threshold, the default for a program saved
// before it existed.
func (c CommunityRules) FlagThreshold() int64 {
	if c.CommunityFlagThreshold <= 0 {
		return DefaultCommunityRules().CommunityFlagThreshold
	}
	return c.CommunityFlagThreshold
}

// NewMemberDailyPosts is the lowest trust level's daily posts, the default
// for a program saved before it existed.
func (c CommunityRules) NewMemberDailyPosts() int {
	if c.CommunityNewMemberDailyPosts <= 0 {
		return DefaultCommunityRules().CommunityNewMemberDailyPosts
	}
	return c.CommunityNewMemberDailyPosts
}
