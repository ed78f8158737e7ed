package client

import (
	"slices"

	"github.com/authd/authd/internal/oauth"
)

// maxAllowedResources bounds allowed_resources: a client talks to a handful
// of APIs, and every token request scans the list.
const maxAllowedResources = 100

// validAllowedResources checks allowed_resources: each an RFC 8707 §2
// resource indicator (absolute URI, no fragment), returned sorted without
// duplicates. Whether a resource is registered is decided at the token
// endpoint, so one may be allowed before it is created. Empty: any
// registered resource.
func validAllowedResources(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > maxAllowedResources {
		return nil, invalid("allowed_resources", "at most "+itoa(maxAllowedResources)+" allowed resources")
	}
	for _, r := range in {
		if why := oauth.ResourceIndicatorProblem(r); why != "" {
			return nil, invalid("allowed_resources", "resource "+quote(r)+" "+why)
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(in))), nil
}
