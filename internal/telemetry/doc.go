// Package telemetry names authd's own metrics and builds their collectors:
// HTTP requests per route, and gauges over the state other packages keep
// (password hashing slots, the security-event pipeline). Cache and rate-limit
// metrics are registered by their packages on the same registry.
package telemetry
