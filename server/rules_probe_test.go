package main

// Probes of the earning rules' inputs for the schema walks
// (textpolicy_test.go, bounds_test.go).

const createEarningRule = `mutation($in: EarningRuleInput!) { createEarningRule(input: $in) { id } }`

// ruleVars is a valid rule: 10 points on any purchase.
func ruleVars(e *probeEnv) map[string]any {
	return map[string]any{"name": "Probe " + e.unique(), "trigger": "PURCHASE", "effect": map[string]any{"fixedPoints": 10}}
}

func sendRule(change func(in map[string]any, v string)) func(e *probeEnv, v string) *gqlResponse {
	return func(e *probeEnv, v string) *gqlResponse {
		in := ruleVars(e)
		change(in, v)
		return e.service(createEarningRule, map[string]any{"in": in})
	}
}

func sendRuleInt(change func(in map[string]any, v int64)) func(e *probeEnv, v int64) *gqlResponse {
	return func(e *probeEnv, v int64) *gqlResponse {
		in := ruleVars(e)
		change(in, v)
		return e.service(createEarningRule, map[string]any{"in": in})
	}
}
