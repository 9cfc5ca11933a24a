package cliflag

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// Each returns the Action of a cli.StringSliceFlag named name that checks
// every entry with check; the error names the flag and the entry.
func Each(name string, check func(string) error) func(*cli.Context, []string) error {
	return func(_ *cli.Context, vs []string) error {
		for _, v := range vs {
			if err := check(strings.TrimSpace(v)); err != nil {
				return fmt.Errorf("--%s %q: %w", name, v, err)
			}
		}
		return nil
	}
}

// One returns the Action of a cli.StringFlag named name that checks its
// value with check; the error names the flag and the value.
func One(name string, check func(string) error) func(*cli.Context, string) error {
	return func(_ *cli.Context, v string) error {
		if err := check(strings.TrimSpace(v)); err != nil {
			return fmt.Errorf("--%s %q: %w", name, v, err)
		}
		return nil
	}
}

// ListenAddr checks an address to listen on: HOST:PORT, where HOST may
// be empty (all interfaces) and PORT 0 (any free port).
func ListenAddr(s string) error {
	if _, _, err := splitHostPort(s, 0); err != nil {
		return errors.New("want HOST:PORT such as 127.0.0.1:2855, [::1]:2855 or :2855")
	}
	return nil
}

// HostPort checks an address others reach: a host name or IP address and
// a port from 1 to 65535.
func HostPort(s string) error {
	host, _, err := splitHostPort(s, 1)
	if err != nil || HostName(host) != nil {
		return errors.New("want HOST:PORT such as relay.example.com:2855 or 192.0.2.7:2855")
	}
	return nil
}

func splitHostPort(s string, minPort int) (string, int, error) {
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < minPort || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	return host, port, nil
}

// HostName checks a host name (letters, digits, '-', '_' and dots) or an
// IP address.
func HostName(s string) error {
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return nil
	}
	if !isName(s) {
		return errors.New("want a host name or an IP address")
	}
	return nil
}

func isName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '.' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// Origin checks a WebSocket Origin to admit: scheme://host[:port], or *
// for any.
func Origin(s string) error {
	if s == "*" {
		return nil
	}
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
		return errors.New("want an origin such as https://chat.example.com (scheme://host[:port], nothing after), or *")
	}
	return nil
}

// NetOrName checks an entry of an address policy: a CIDR prefix, a
// single IP address or a host name.
func NetOrName(s string) error {
	if strings.Contains(s, "/") {
		if _, err := netip.ParsePrefix(s); err != nil {
			return errors.New("want a CIDR prefix such as 10.0.0.0/8 or fd00::/8, an address or a host name")
		}
		return nil
	}
	if HostName(s) != nil {
		return errors.New("want a CIDR prefix such as 10.0.0.0/8, an address or a host name")
	}
	return nil
}

// Users returns the Action of a flag of NAME:PASSWORD credentials (a
// cli.StringSliceFlag or, through UserPass, a cli.StringFlag). Its error
// names the user but never echoes a password.
func Users(name string, emptyPassword bool) func(*cli.Context, []string) error {
	return func(_ *cli.Context, vs []string) error {
		for _, v := range vs {
			if err := UserPass(name, v, emptyPassword); err != nil {
				return err
			}
		}
		return nil
	}
}

// UserPass checks v, the value of flag name, as NAME:PASSWORD; the
// password may be empty only if emptyPassword.
func UserPass(name, v string, emptyPassword bool) error {
	user, pass, ok := strings.Cut(v, ":")
	switch {
	case !ok:
		return fmt.Errorf("--%s %q: want NAME:PASSWORD", name, v)
	case user == "":
		return fmt.Errorf("--%s: want NAME:PASSWORD; the name is empty", name)
	case pass == "" && !emptyPassword:
		return fmt.Errorf("--%s %q: want NAME:PASSWORD; the password is empty", name, v)
	}
	return nil
}

// NameEnv makes the Actions of fs that check a value name the
// environment variable the value came from, when it came from one: an
// error then reads "MSRPD_TCP: --tcp "2855": want HOST:PORT ...". Call it
// after setting EnvVars.
func NameEnv(fs []cli.Flag) []cli.Flag {
	for _, f := range fs {
		switch f := f.(type) {
		case *cli.StringFlag:
			f.Action = nameEnv(f.Action, f.Name, f.EnvVars)
		case *cli.StringSliceFlag:
			f.Action = nameEnv(f.Action, f.Name, f.EnvVars)
		}
	}
	return fs
}

func nameEnv[T any](action func(*cli.Context, T) error, name string, envVars []string) func(*cli.Context, T) error {
	if action == nil || len(envVars) == 0 {
		return action
	}
	return func(c *cli.Context, v T) error {
		err := action(c, v)
		if err == nil || onCommandLine(os.Args[1:], name) {
			return err
		}
		for _, e := range envVars {
			if _, ok := os.LookupEnv(e); ok {
				return fmt.Errorf("%s: %w", e, err)
			}
		}
		return err
	}
}

// onCommandLine reports whether args give flag name (-name, --name,
// --name=...).
func onCommandLine(args []string, name string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		a = strings.TrimLeft(a, "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}
