package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/msrpd/msrpd/endpoint"
	"github.com/msrpd/msrpd/msrp"
)

func sdpCommand() *cli.Command {
	return &cli.Command{
		Name:  "sdp",
		Usage: "print an SDP media fragment for our session, then chat with the peer (from --remote-sdp or its first message)",
		Flags: append(commonFlags(),
			&cli.StringFlag{Name: "remote-sdp", Usage: "the peer's SDP `FILE` (- for stdin is not allowed); its a=path is the peer's path"},
			&cli.BoolFlag{Name: "print-only", Usage: "exit after printing (the session ends with the process)"},
		),
		Action: runSDP,
	}
}

func runSDP(c *cli.Context) error {
	ctx, cancel := signalContext(c.Context)
	defer cancel()
	var peerPath string
	if f := c.String("remote-sdp"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("--remote-sdp: %w", err)
		}
		if peerPath, err = sdpPath(string(b)); err != nil {
			return fmt.Errorf("--remote-sdp %s: %w", f, err)
		}
	}
	cfg, err := endpointConfig(c, "user")
	if err != nil {
		return err
	}
	cfg.OnEvent = printEvents
	e, err := dial(ctx, c, cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprint(out, sdpFragment(e))
	if peerPath != "" {
		fmt.Fprintf(out, "\n# remote path: %s\n", peerPath)
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if c.Bool("print-only") {
		return nil
	}
	return chat(ctx, e, &printer{w: out}, peerPath)
}

// sdpFragment is the m= section a SIP client under test gets for us
// (RFC 4975 section 8, RFC 6135 setup/connection, RFC 7977 section 5.2.2:
// TCP/TLS/MSRP for WebSocket and msrps).
func sdpFragment(e *endpoint.Endpoint) string {
	own, _ := msrp.ParseURI(e.URI())
	proto := "TCP/MSRP"
	if own.Scheme == "msrps" || own.Transport == "ws" {
		proto = "TCP/TLS/MSRP"
	}
	ip, family := "127.0.0.1", "IP4"
	if ta, ok := e.LocalAddr().(*net.TCPAddr); ok {
		ip = ta.IP.String()
		if ta.IP.To4() == nil {
			family = "IP6"
		}
	}
	port := own.Port
	if port == 0 {
		port = 9
	}
	var b strings.Builder
	fmt.Fprintf(&b, "m=message %d %s *\r\n", port, proto)
	fmt.Fprintf(&b, "c=IN %s %s\r\n", family, ip)
	fmt.Fprintf(&b, "a=path:%s\r\n", e.Path())
	b.WriteString("a=accept-types:text/plain message/cpim *\r\n")
	b.WriteString("a=setup:active\r\n")
	b.WriteString("a=connection:new\r\n")
	return b.String()
}

// sdpPath extracts the a=path value of an SDP (the first one, usually the
// only MSRP media).
func sdpPath(sdp string) (string, error) {
	for _, line := range strings.Split(sdp, "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "a=path:"); ok {
			if _, err := msrp.ParsePath(v); err != nil {
				return "", err
			}
			return strings.Join(strings.Fields(v), " "), nil
		}
	}
	return "", fmt.Errorf("no a=path line")
}
