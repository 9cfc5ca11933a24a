package sipua

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pion/logging"
)

// slogHandler sends sipgo's slog records to a pion logger: Debug and Info
// as Debug (sipgo is chatty), Warn as Info, Error as Warn (what sipgo
// calls an error is mostly a peer's).
type slogHandler struct {
	log   logging.LeveledLogger
	attrs string
}

func newSlog(log logging.LeveledLogger) *slog.Logger { return slog.New(&slogHandler{log: log}) }

func (h *slogHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *slogHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	switch {
	case r.Level >= slog.LevelError:
		h.log.Warn(b.String())
	case r.Level >= slog.LevelWarn:
		h.log.Info(b.String())
	default:
		h.log.Debug(b.String())
	}
	return nil
}

func (h *slogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range as {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	return &slogHandler{log: h.log, attrs: b.String()}
}

func (h *slogHandler) WithGroup(string) slog.Handler { return h }
