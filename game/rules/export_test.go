package rules

// For the external tests (replay_test.go): the dry run's package imports
// this one, so its benchmark on the shared 50 rules sits here.
var (
	Fifty  = fifty
	RuleOf = rule
)
