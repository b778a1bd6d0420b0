package program

import "github.com/regulars/regulars/input"

// PushRules say when marketing push notifications may reach members'
// phones (package push); other pushes go out at once. A program saved
// before they existed holds zeros: no quiet hours, no cap.
type PushRules struct {
	// QuietHoursStart and QuietHoursEnd are local hours (0 to 23) of each
	// member's timezone: a MARKETING push falling from the start up to the
	// end waits until the end. Equal: no quiet hours.
	QuietHoursStart int `bson:"quietHoursStart"`
	QuietHoursEnd   int `bson:"quietHoursEnd"`
	// MarketingDailyCap bounds the MARKETING pushes a member gets per day
	// of their timezone; 0: no cap.
	MarketingDailyCap int `bson:"marketingDailyCap"`
}

// MaxMarketingDailyCap bounds the marketing pushes a day.
const MaxMarketingDailyCap = 50

// DefaultPushRules: quiet from 22:00 to 08:00, three marketing pushes a day.
func DefaultPushRules() PushRules {
	return PushRules{QuietHoursStart: 22, QuietHoursEnd: 8, MarketingDailyCap: 3}
}

func (r PushRules) validate() error {
	switch {
	case r.QuietHoursStart < 0 || r.QuietHoursStart > 23:
		return input.Errorf("push.quietHoursStart", "must be an hour from 0 to 23")
	case r.QuietHoursEnd < 0 || r.QuietHoursEnd > 23:
		return input.Errorf("push.quietHoursEnd", "must be an hour from 0 to 23")
	case r.MarketingDailyCap < 0 || r.MarketingDailyCap > MaxMarketingDailyCap:
		return input.Errorf("push.marketingDailyCap", "must be between 0 and %d", MaxMarketingDailyCap)
	}
	return nil
}

// PushRulesPatch changes some of the push rules.
type PushRulesPatch struct {
	QuietHoursStart   *int
	QuietHoursEnd     *int
	MarketingDailyCap *int
}

func (pt *PushRulesPatch) apply(r *PushRules) {
	if pt == nil {
		return
	}
	set(&r.QuietHoursStart, pt.QuietHoursStart)
	set(&r.QuietHoursEnd, pt.QuietHoursEnd)
	set(&r.MarketingDailyCap, pt.MarketingDailyCap)
}
