package relay

import (
	"net"
	"sync"
	"time"
)

// authLimiter counts failed AUTHs per source address across connections,
// so that brute force cannot go on by reconnecting after every third
// failure. A source over the limit has its AUTHs refused until its window
// ends.
type authLimiter struct {
	limit  int           // failures per window; <= 0 disables
	window time.Duration // length of a counting window

	mu  sync.Mutex
	src map[string]*authWindow
}

type authWindow struct {
	start    time.Time
	failures int
}

// maxAuthSources bounds the table; when full, expired windows are dropped
// and, if that is not enough, the new source is not tracked (the per
// connection limit still applies).
const maxAuthSources = 100000

func newAuthLimiter(limit int, window time.Duration) *authLimiter {
	return &authLimiter{limit: limit, window: window, src: map[string]*authWindow{}}
}

// sourceOf returns the IP of a peer address, the key of the limit.
func sourceOf(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// blocked reports whether src has used up its failed AUTHs for now.
func (l *authLimiter) blocked(src string, now time.Time) bool {
	if l.limit <= 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.src[src]
	if w == nil || now.Sub(w.start) >= l.window {
		return false
	}
	return w.failures >= l.limit
}

// failed counts one failed AUTH from src and reports whether src is now
// over the limit.
func (l *authLimiter) failed(src string, now time.Time) bool {
	if l.limit <= 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.src[src]
	if w == nil || now.Sub(w.start) >= l.window {
		if w == nil && len(l.src) >= maxAuthSources {
			l.pruneLocked(now)
			if len(l.src) >= maxAuthSources {
				return false
			}
		}
		w = &authWindow{start: now}
		l.src[src] = w
	}
	w.failures++
	return w.failures >= l.limit
}

func (l *authLimiter) pruneLocked(now time.Time) {
	for k, w := range l.src {
		if now.Sub(w.start) >= l.window {
			delete(l.src, k)
		}
	}
}
