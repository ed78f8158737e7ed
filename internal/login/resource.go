package login

import (
	"context"
	"net/url"

	"github.com/authd/authd/internal/oauth"
)

// pResource is the RFC 8707 §2 resource parameter: the one authorization
// request parameter that may repeat.
const pResource = "resource"

// maxResources bounds the resource parameters of one request.
const maxResources = 10

// ResourceChecker decides whether a client may ask for resources
// (token.Service.CheckResources): registered, allowed to the client, and
// well-formed, else invalid_target. It returns them sorted without
// duplicates.
type ResourceChecker interface {
	CheckResources(ctx context.Context, c *oauth.Client, indicators []string) ([]string, error)
}

// parseResources reads the resource parameters of an authorization request
// (RFC 8707 §2: each an absolute URI without a fragment) into req and into
// the parameters the forms carry. Whether they are registered and allowed is
// checkResources'.
func parseResources(req *authRequest, v url.Values) error {
	vals := v[pResource]
	if len(vals) > maxResources {
		return oauth.InvalidTarget("at most 10 resource parameters")
	}
	for _, r := range vals {
		if r == "" {
			continue // RFC 6749 §3.1: a parameter without a value is omitted
		}
		if why := oauth.ResourceIndicatorProblem(r); why != "" {
			return oauth.InvalidTarget("each resource must be an absolute URI without a fragment: one " + why)
		}
		req.Resources = append(req.Resources, r)
		req.params.Add(pResource, r)
	}
	return nil
}

// checkResources refuses, with invalid_target, resources that are not
// registered or that the client may not ask for; the code then remembers
// the resources granted (RFC 8707 §2.1), for the token endpoint to narrow.
func (h *Handler) checkResources(ctx context.Context, req *authRequest) error {
	if len(req.Resources) == 0 {
		return nil
	}
	if h.resources == nil {
		return oauth.InvalidTarget("no resources are registered")
	}
	rs, err := h.resources.CheckResources(ctx, req.Client, req.Resources)
	if err != nil {
		return err
	}
	req.Resources = rs
	req.params[pResource] = rs // the forms carry what was checked
	return nil
}

// resourceFields are the hidden inputs that carry the resource parameters
// through the login and consent forms.
func resourceFields(params url.Values) []hiddenField {
	var out []hiddenField
	for _, r := range params[pResource] {
		out = append(out, hiddenField{Name: pResource, Value: r})
	}
	return out
}
