package game

import (
	"time"
)

// TierState is where a member stands in the tiers.
type TierState struct {
	Name string `bson:"name"`
	// Since the last upgrade or re-qualification.
	Since time.Time `bson:"since"`
	// QualifiedUntil ends the qualification period; a member keeps the tier
	// at least until then plus the grace period.
	QualifiedUntil time.Time `bson:"qualifiedUntil"`
}

// TierChange is a move between tiers that an entry caused.
type TierChange struct {
	From string `bson:"from"`
	To   string `bson:"to"`
}

// qualifyingMetric is what tiers are measured on over the program's window:
// points earned (never the balance, which spending lowers) or money spent.
func qualifyingMetric(st *State, p *Program, now time.Time) int64 {
	byMonth := st.Earned
	if p.TierBasis == TierBasisSpend {
		byMonth = st.Spend
	}
	var sum int64
	first := time.Date(now.UTC().Year(), now.UTC().Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -(p.TierWindowMonths - 1), 0)
	for m := first; !m.After(now); m = m.AddDate(0, 1, 0) {
		sum += byMonth[monthKey(m)]
	}
	return sum
}

// qualifiedTier is the highest tier the metric reaches.
func qualifiedTier(p *Program, metric int64) int {
	best := 0
	for i, t := range p.Tiers {
		if metric >= t.Threshold {
			best = i
		}
	}
	return best
}

// evaluateTier moves the member's tier as the rules say: up at once, down
// only after the qualification period and its grace have passed.
func evaluateTier(st *State, p *Program, now time.Time) *TierChange {
	if len(p.Tiers) == 0 {
		return nil
	}
	metric := qualifyingMetric(st, p, now)
	want := qualifiedTier(p, metric)
	cur := p.TierRank(st.Tier.Name)
	window := func() time.Time { return now.AddDate(0, p.TierWindowMonths, 0) }
	switch {
	case cur < 0: // new member, or the brand renamed the tier
		st.Tier = TierState{Name: p.Tiers[want].Name, Since: now, QualifiedUntil: window()}
		if st.Tier.Name == "" || want == 0 {
			return nil
		}
		return &TierChange{To: st.Tier.Name}
	case want > cur:
		from := st.Tier.Name
		st.Tier = TierState{Name: p.Tiers[want].Name, Since: now, QualifiedUntil: window()}
		return &TierChange{From: from, To: st.Tier.Name}
	case now.After(st.Tier.QualifiedUntil.AddDate(0, 0, p.TierGraceDays)):
		// The period is over: re-qualify at whatever the window supports.
		from := st.Tier.Name
		st.Tier = TierState{Name: p.Tiers[want].Name, Since: now, QualifiedUntil: window()}
		if want == cur {
			return nil
		}
		return &TierChange{From: from, To: st.Tier.Name}
	}
	return nil
}

// TierStatus is a member's tier, the next one and how far they are.
type TierStatus struct {
	Current        Tier
	Next           *Tier
	Metric         int64 // points earned or spend in the window
	Basis          TierBasis
	ToNext         int64 // what is missing for Next
	QualifiedUntil time.Time
}

// tierStatus evaluates st at now without writing anything.
func tierStatus(st State, p *Program, now time.Time) TierStatus {
	st = st.clone()
	evaluateTier(&st, p, now)
	cur := max(p.TierRank(st.Tier.Name), 0)
	ts := TierStatus{Current: p.Tiers[cur], Metric: qualifyingMetric(&st, p, now), Basis: p.TierBasis, QualifiedUntil: st.Tier.QualifiedUntil}
	if cur+1 < len(p.Tiers) {
		next := p.Tiers[cur+1]
		ts.Next = &next
		ts.ToNext = max(next.Threshold-ts.Metric, 0)
	}
	return ts
}
