// Command msrpcat is a command-line MSRP endpoint: chat, file transfer,
// interop tests and load generation through an MSRP relay.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "msrpcat: not built yet")
	os.Exit(1)
}
