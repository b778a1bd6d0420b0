package push

import (
	"time"

	"github.com/regulars/regulars/inbox"
)

// Policy says whether and when a kind of notification goes to the phone.
type Policy string

const (
	// PolicyAlways: pushed as soon as it is stored, whatever the hour
	// (what the member did or asked for: rewards, redemptions, seats).
	PolicyAlways Policy = "ALWAYS"
	// PolicyMarketing: pushed only to members who gave marketing consent
	// and did not mute its category, outside quiet hours (held until they
	// end) and within the daily cap.
	PolicyMarketing Policy = "MARKETING"
	// PolicyNever: stays in the inbox only.
	PolicyNever Policy = "NEVER"
)

// Policies is the push policy of every notification kind, in one table; a
// test walks the API's NotificationKind enum to check each has one.
var Policies = map[inbox.Kind]Policy{
	inbox.KindWelcome:          PolicyNever, // the app is open when it arrives
	inbox.KindSystem:           PolicyAlways,
	inbox.KindRewardEarned:     PolicyAlways,
	inbox.KindTierChanged:      PolicyAlways,
	inbox.KindBadgeUnlocked:    PolicyAlways,
	inbox.KindRedemption:       PolicyAlways,
	inbox.KindOfferAvailable:   PolicyMarketing,
	inbox.KindPointsExpiring:   PolicyMarketing,
	inbox.KindStreakAtRisk:     PolicyMarketing,
	inbox.KindBirthday:         PolicyMarketing,
	inbox.KindWinBack:          PolicyMarketing,
	inbox.KindEventSeatOffered: PolicyAlways, // held for a deadline
	inbox.KindEventReminder:    PolicyAlways,
	inbox.KindCommunity:        PolicyAlways, // a reply or mention; mutable with COMMUNITY
	inbox.KindEventPublished:   PolicyMarketing,
	// At the till: receipts of what just happened, and points refunded.
	inbox.KindRedemptionFulfilled: PolicyAlways,
	inbox.KindRedemptionExpired:   PolicyAlways,
	inbox.KindCouponRedeemed:      PolicyAlways,
	inbox.KindDataExport:          PolicyAlways, // the member asked for it
}

// PolicyOf is the policy of kind k; a kind missing from Policies is not pushed.
func PolicyOf(k inbox.Kind) Policy {
	if p, ok := Policies[k]; ok {
		return p
	}
	return PolicyNever
}

// Pushable reports whether notifications of kind k may be pushed, for
// inbox.SetPush.
func Pushable(k inbox.Kind) bool { return PolicyOf(k) != PolicyNever }

// quietUntil returns when a MARKETING push due at now may go out at loc:
// now outside quiet hours, else the end of the quiet hours that now falls
// in (the same morning, or the next one when they start in the evening).
func (st Settings) quietUntil(now time.Time, loc *time.Location) time.Time {
	if st.QuietStart == st.QuietEnd {
		return now
	}
	local := now.In(loc)
	h := local.Hour()
	var quiet bool
	if st.QuietStart < st.QuietEnd { // within one day, say 1 to 6
		quiet = h >= st.QuietStart && h < st.QuietEnd
	} else { // across midnight, say 22 to 8
		quiet = h >= st.QuietStart || h < st.QuietEnd
	}
	if !quiet {
		return now
	}
	end := time.Date(local.Year(), local.Month(), local.Day(), st.QuietEnd, 0, 0, 0, loc)
	if !end.After(local) {
		end = time.Date(local.Year(), local.Month(), local.Day()+1, st.QuietEnd, 0, 0, 0, loc)
	}
	return end.UTC()
}
