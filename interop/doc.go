// Package interop tests authd against clients written by others, installed
// from their registries by install.sh (which .ci/run calls): oauth2-proxy as an
// OpenID Connect reverse proxy, a single-page app built on oauth4webapi in
// headless Chromium on another web origin, and openid-client as a confidential
// client. The one idea: authd agreeing with tests we wrote proves little; these
// clients were written against the RFCs, not against authd.
//
// Each test runs the authd binary (built once by TestMain) as a process on
// port 0. A missing client skips the test with a message naming install.sh,
// or fails it under AUTHD_REQUIRE_SERVERS=1, as CI sets.
package interop
