// Command msrpcat is a command-line MSRP endpoint: chat, file transfer,
// interop tests and load generation through an MSRP relay (RFC 4976),
// reached over WebSocket (RFC 7977), TCP or TLS.
//
//	msrpcat listen --relay ws://127.0.0.1:8080/ --user bob:secret
//	msrpcat send   --relay msrp://127.0.0.1:2855;tcp --user alice:secret --to 'PATH' hello
//	msrpcat chat   --relay ... --user ... [--to PATH]
//	msrpcat sdp    --relay ... --user ... [--remote-sdp FILE]
//	msrpcat bench  --relay ... --user A:P --user2 B:P2 --pairs 10 --messages 10000 --json
//	msrpcat answer --sip-listen 127.0.0.1:5070 [--relay ... --user ...]
//	msrpcat call   sip:bob@127.0.0.1:5070 [--relay ... --user ...] hello
//
// The libraries behind it are github.com/msrpd/msrpd/endpoint (MSRP),
// sipua (SIP) and sdp; this command maps flags to their Configs and
// prints.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/msrpd/msrpd/internal/cliflag"
)

// exitError carries an exit status without printing twice.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	app := &cli.App{
		Name:  "msrpcat",
		Usage: "a command-line MSRP endpoint: chat, files, interop tests and load through an MSRP relay",
		Description: "Durations are written 500ms, 30s, 5m or 1h30m, or as a number of seconds (30 is 30s);\n" +
			"sizes as bytes (2048) or with KiB or MiB (64KiB). msrpcat COMMAND --help lists a command's flags.",
		Commands: []*cli.Command{
			listenCommand(),
			sendCommand(),
			chatCommand(),
			sdpCommand(),
			benchCommand(),
			callCommand(),
			answerCommand(),
		},
		HideHelpCommand: true,
		OnUsageError:    cliflag.OnUsageError,
	}
	for _, cmd := range app.Commands {
		cmd.OnUsageError = cliflag.OnUsageError
	}
	if err := app.Run(os.Args); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "msrpcat:", err)
		os.Exit(1)
	}
}
