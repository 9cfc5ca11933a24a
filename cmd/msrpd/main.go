// Command msrpd is an MSRP relay (RFC 4975, RFC 4976) for clients over
// WebSocket (RFC 7977), TCP and TLS, configured entirely by flags (or
// MSRPD_* environment variables). Run `msrpd --help` for the flags.
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/msrpd/msrpd/internal/cliflag"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	app := &cli.App{
		Name:    "msrpd",
		Usage:   "MSRP relay (RFC 4976) over WebSocket (RFC 7977), TCP and TLS",
		Version: version,
		Description: "With no listener flags msrpd serves ws on 127.0.0.1:8855 and tcp on 127.0.0.1:2855;\n" +
			"with no users it creates user \"demo\" with a random password and prints it.\n" +
			"Every flag can also be set by an environment variable MSRPD_<NAME>, e.g. MSRPD_PING_INTERVAL=30s.\n" +
			"Durations are written 500ms, 30s, 5m or 1h30m, or as a number of seconds (30 is 30s);\n" +
			"sizes as bytes (65536) or with KiB or MiB (64KiB).",
		UsageText:       "msrpd [flags]",
		HideHelpCommand: true,
		Flags:           withEnv(flags()),
		OnUsageError:    cliflag.OnUsageError,
		Action:          run,
	}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "msrpd:", err)
		os.Exit(1)
	}
}
