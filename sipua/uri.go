package sipua

import (
	"fmt"

	"github.com/emiago/sipgo/sip"
)

// CheckURI reports whether s is a sip: or sips: URI that Invite,
// Register and Config.Proxy take, so that a caller can refuse a bad one
// before starting anything. The error says what is wrong.
func CheckURI(s string) error {
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		return fmt.Errorf("%w: %q: %v", ErrBadConfig, s, err)
	}
	if u.Scheme != "sip" && u.Scheme != "sips" {
		return fmt.Errorf("%w: %q is not a sip: URI", ErrBadConfig, s)
	}
	if u.Host == "" {
		return fmt.Errorf("%w: %q has no host", ErrBadConfig, s)
	}
	return nil
}
