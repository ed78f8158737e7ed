package main

import (
	"context"
	"fmt"
	"strings"
)

// runMixed sends the --mix of requests as one stream, with the run's load
// shape, so the figures are those of a server serving several endpoints at
// once: issuance, introspection and JWKS share its CPU, caches and pools.
func runMixed(ctx context.Context, e *env) *ScenarioResult {
	const name = "mixed"
	targeter, classify, firsts, err := mixPlan(e, e.o.mix)
	if err != nil {
		return e.unsupportedResult(name, "--mix %s", err)
	}
	for _, t := range firsts {
		if r := e.preflight(ctx, name, t); r != nil {
			return r
		}
	}
	// Each kind's own figures too: a mix's p99 may be one slow kind's.
	split := newSplitter(mixKindOf, classify)
	res := e.runMain(ctx, name, plan{targeter: targeter, classify: classify, split: split})
	kinds := make([]string, len(e.o.mix))
	for i, en := range e.o.mix {
		kinds[i] = en.kind.name
	}
	res.Streams = append(res.Streams, split.summaries("kind ", e.settings, kinds)...)
	res.info("mix", "%s", mixString(e.o.mix))
	return res
}

// mixString renders a parsed mix with each kind's share.
func mixString(entries []mixEntry) string {
	total := 0
	for _, en := range entries {
		total += en.weight
	}
	parts := make([]string, len(entries))
	for i, en := range entries {
		parts[i] = fmt.Sprintf("%s %.0f%%", en.kind.name, 100*float64(en.weight)/float64(total))
	}
	return strings.Join(parts, ", ")
}
