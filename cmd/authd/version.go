package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// buildInfo is what the binary knows of itself: module version, commit and
// Go version, from the build (no linker flags needed).
type buildInfo struct {
	Version, Commit, Time, Go string
	Modified                  bool
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: "(unknown)", Go: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Version = info.Main.Version
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// versionCmd is "authd version".
func versionCmd(stdout io.Writer) error {
	b := readBuildInfo()
	commit := b.Commit
	switch {
	case commit == "":
		commit = "unknown"
	case b.Modified:
		commit += " (modified)"
	}
	fmt.Fprintf(stdout, "authd %s\ncommit %s", b.Version, commit)
	if b.Time != "" {
		fmt.Fprintf(stdout, " at %s", b.Time)
	}
	fmt.Fprintf(stdout, "\n%s %s/%s\n", b.Go, runtime.GOOS, runtime.GOARCH)
	return nil
}
