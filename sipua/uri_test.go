package sipua

import (
	"errors"
	"testing"
)

func TestCheckURI(t *testing.T) {
	for _, s := range []string{"sip:bob@127.0.0.1:5060", "sip:registrar.example.com", "sips:bob@example.com;transport=tls", "sip:127.0.0.1:5061;transport=tls"} {
		if err := CheckURI(s); err != nil {
			t.Errorf("CheckURI(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "bob@example.com", "http://example.com", "sip:", "127.0.0.1:5060"} {
		if err := CheckURI(s); !errors.Is(err, ErrBadConfig) {
			t.Errorf("CheckURI(%q) = %v, want ErrBadConfig", s, err)
		}
	}
}
