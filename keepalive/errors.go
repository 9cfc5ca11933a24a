package keepalive

import "errors"

var (
	// ErrBadMode is returned by ParseMode for an unknown mode name.
	ErrBadMode = errors.New("keepalive: unknown mode")
	// ErrBadConfig is returned by Config.WithDefaults for a value that
	// makes no sense.
	ErrBadConfig = errors.New("keepalive: bad config")
	// ErrBusy is returned by a Link whose write path is in use when a probe
	// is due; the Keeper takes it as traffic and does not probe.
	ErrBusy = errors.New("keepalive: link busy")

	errNilScheduler = errors.New("keepalive: scheduler must be set")
	errNilLink      = errors.New("keepalive: link must be set")
	errNilLogger    = errors.New("keepalive: leveled logger must be set")
)
