// Package config builds authd's one typed Config from a file and the environment.
//
// Every setting has one name, AUTHD_SOMETHING, used as is in the environment and in
// an optional YAML or TOML file (where the lower-case name without the prefix,
// "something", works too). The environment wins over the file. Validate names
// the offending key in a single line, so a bad setting stops startup clearly.
package config
