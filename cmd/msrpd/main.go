// Command msrpd is an MSRP relay (RFC 4975, RFC 4976) for clients over
// WebSocket (RFC 7977), TCP and TLS.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "msrpd: the relay is not built yet; it will listen on ws 127.0.0.1:8855 and tcp 127.0.0.1:2855 with a demo user")
	os.Exit(1)
}
