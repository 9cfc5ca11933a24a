package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A --ws-origin that is not scheme://host[:port] stops msrpd at startup
// with a message that names it, rather than leaving it running to answer
// every WebSocket handshake with HTTP 500.
func TestDaemonRefusesBadOrigin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, msrpdBin, "--ws", "127.0.0.1:0", "--ws-origin", "app.example.com").CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("msrpd still running after 10s with a bad --ws-origin; output %q", out)
	}
	if err == nil || !strings.Contains(string(out), `"app.example.com"`) || !strings.Contains(string(out), "scheme://host") {
		t.Errorf("err %v, output %q; want a refusal naming the origin and the form it needs", err, out)
	}
	if strings.Contains(string(out), "listening") {
		t.Errorf("msrpd listened before refusing: %q", out)
	}
}
