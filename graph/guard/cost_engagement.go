package guard

// The sizes of analytics { engagement }'s lists (kept apart from
// listSizes so branches adding lists do not realign one table).
func init() {
	listSizes["AnalyticsEngagement.badges"] = fixed(50)       // analytics.MaxBadgeRows
	listSizes["AnalyticsEngagement.leaderboards"] = fixed(60) // analytics.MaxBoards
	listSizes["AnalyticsEngagement.events"] = fixed(50)       // analytics.MaxEvents
	listSizes["StreakDistribution.buckets"] = fixed(9)        // 0 and rollup.StreakBuckets
}
