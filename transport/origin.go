package transport

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// originSet decides which browser Origins may open WebSockets. Requests
// without Origin (non-browser clients) and same-origin requests are always
// admitted, as gorilla's default does; the list admits cross-site pages.
type originSet struct {
	any  bool
	list []string // lower-case "scheme://host[:port]"
}

func parseOrigins(in []string) (originSet, error) {
	var s originSet
	for _, o := range in {
		o = strings.TrimSpace(o)
		if o == "*" {
			s.any = true
			continue
		}
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return s, fmt.Errorf("%w: allowed origin %q is not scheme://host[:port]", ErrBadConfig, o)
		}
		s.list = append(s.list, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return s, nil
}

func (s originSet) check(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || s.any {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return slices.Contains(s.list, strings.ToLower(u.Scheme+"://"+u.Host))
}
