package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"

	"sieve/internal/cli"
)

// versionCmd runs 'sieve version' (and 'sieve --version'): it prints the
// module version and the commit the binary was built from.
func versionCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("sieve version", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	_, err := fmt.Fprintln(stdout, versionLine(info))
	return err
}

// versionLine describes a build: "sieve VERSION, commit REV[+dirty]
// (TIME), GOVERSION", with "unknown" for what the build did not record
// (go build records the commit when it runs inside a git checkout).
func versionLine(info *debug.BuildInfo) string {
	version, commit, goVersion := "unknown", "unknown", "unknown"
	var when string
	if info != nil {
		goVersion = info.GoVersion
		if v := info.Main.Version; v != "" {
			version = v
		}
		dirty := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if dirty {
			commit += "+dirty"
		}
	}
	if when != "" {
		commit += " (" + when + ")"
	}
	return fmt.Sprintf("sieve %s, commit %s, %s", version, commit, goVersion)
}
