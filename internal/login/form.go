package login

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// readParams returns a GET's query parameters or a POST's form body. A POST's
// URL query is ignored: one request, one source of parameters.
func readParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.Method != http.MethodPost {
		return parseParams(r.URL.RawQuery)
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return nil, &pageError{http.StatusUnsupportedMediaType, "Invalid request",
			"The form must be sent as application/x-www-form-urlencoded."}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxParamsBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &pageError{http.StatusRequestEntityTooLarge, "Request too large", "The request is too large."}
		}
		return nil, badRequestPage("The form could not be read.")
	}
	return parseParams(string(body))
}

// formField returns a form field that must appear at most once.
func formField(v url.Values, name string) (string, error) {
	val, ok := single(v, name)
	if !ok {
		return "", badRequestPage("A form field is repeated.")
	}
	return val, nil
}

// formFields returns several single-valued fields.
func formFields(v url.Values, names ...string) ([]string, error) {
	out := make([]string, len(names))
	for i, n := range names {
		val, err := formField(v, n)
		if err != nil {
			return nil, err
		}
		out[i] = val
	}
	return out, nil
}

// hiddenFields turns the recognised request parameters into hidden inputs, in
// a fixed order.
func hiddenFields(params url.Values) []hiddenField {
	var out []hiddenField
	for _, name := range carried() {
		if v := params.Get(name); v != "" {
			out = append(out, hiddenField{Name: name, Value: v})
		}
	}
	if m := params.Get(pPushed); m != "" {
		out = append(out, hiddenField{Name: pPushed, Value: m})
	}
	return append(out, resourceFields(params)...)
}
