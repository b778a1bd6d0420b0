package guard

// The sizes of analytics { engagement }'s lists (kept apart from
// listSizes so branches adding lists do not realign one table).
func init() {
	listSizes["AnalyticsEngagement.badges"] = fixed(100)       // analytics.MaxBadgeRows
	listSizes["AnalyticsEngagement.leaderboards"] = fixed(263) // the weeks a range under 5 years overlaps
	listSizes["AnalyticsEngagement.events"] = fixed(100)       // analytics.MaxEvents
	listSizes["StreakDistribution.buckets"] = fixed(9)         // 0 and rollup.StreakBuckets
}
