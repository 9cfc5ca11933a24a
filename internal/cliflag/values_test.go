package cliflag

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"5s", 5 * time.Second, ""},
		{"1m30s", 90 * time.Second, ""},
		{"250ms", 250 * time.Millisecond, ""},
		{"0", 0, ""},
		{"5", 5 * time.Second, ""},
		{" 30 ", 30 * time.Second, ""},
		{"1.5", 1500 * time.Millisecond, ""},
		{"-5", 0, "must not be negative"},
		{"-5s", 0, "must not be negative"},
		{"5x", 0, "use a duration such as 5s, 1m or 1h30m, or a number of seconds"},
		{"", 0, "use a duration"},
		{"1e3", 0, "use a duration"},
		{"0x10", 0, "use a duration"},
		{"NaN", 0, "use a duration"},
		{"1.2.3", 0, "use a duration"},
		{"99999999999999", 0, "too long"},
	} {
		got, err := ParseDuration(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseDuration(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
		}
	}
}

func TestValuesSet(t *testing.T) {
	type value interface {
		Set(string) error
		String() string
	}
	for _, tc := range []struct {
		name string
		v    value
		in   string
		want string // String() after Set, or the error
		ok   bool
	}{
		{"duration", &Duration{}, "20", "20s", true},
		{"duration nonzero", &Duration{NonZero: true}, "0s", "must be more than 0", false},
		{"int", &Int{Min: 1}, "3", "3", true},
		{"int below min", &Int{Min: 1}, "0", "want a whole number of at least 1", false},
		{"int minus one", &Int{Min: 1, MinusOne: "no limit"}, "-1", "-1", true},
		{"int minus one refused", &Int{Min: 0}, "-1", "want a whole number of at least 0", false},
		{"int minus two", &Int{Min: 1, MinusOne: "no limit"}, "-2", "want a whole number of at least 1, or -1 for no limit", false},
		{"int text", &Int{}, "many", "want a whole number of at least 0", false},
		{"size plain", &Size{}, "65536", "65536", true},
		{"size KiB", &Size{}, "64KiB", "65536", true},
		{"size k", &Size{}, "64k", "65536", true},
		{"size MiB", &Size{}, "16MiB", "16777216", true},
		{"size unit", &Size{}, "16GB", "want a size in bytes such as 65536, 64KiB or 16MiB", false},
		{"size zero", &Size{}, "0", "must be more than 0", false},
		{"size min", &Size{Min: 2048}, "1KiB", "must be at least 2KiB", false},
		{"size huge", &Size{}, "4096MiB", "too large", false},
		{"float", &Float{}, "12.5", "12.5", true},
		{"float negative", &Float{}, "-1", "want a number of at least 0", false},
		{"float inf", &Float{}, "Inf", "want a number of at least 0", false},
		{"choice", &Choice{Choices: []string{"auto", "off"}}, " OFF ", "off", true},
		{"choice bad", &Choice{Choices: []string{"auto", "frames", "off"}}, "on", "want auto, frames or off", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.v.Set(tc.in)
			switch {
			case tc.ok && err != nil:
				t.Fatalf("Set(%q): %v", tc.in, err)
			case tc.ok && tc.v.String() != tc.want:
				t.Fatalf("Set(%q): String() = %q, want %q", tc.in, tc.v.String(), tc.want)
			case !tc.ok && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Set(%q) = %v, want an error with %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int]string{16 << 20: "16MiB", 64 << 10: "64KiB", 1000: "1000", 1536: "1536", 3 << 10: "3KiB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
		if back, err := ParseSize(FormatSize(n)); err != nil || back != n {
			t.Errorf("ParseSize(FormatSize(%d)) = %d, %v", n, back, err)
		}
	}
}

func TestChecks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check func(string) error
		good  []string
		bad   []string
	}{
		{"ListenAddr", ListenAddr, []string{"127.0.0.1:2855", ":0", "[::1]:8855", "localhost:80"}, []string{"2855", "127.0.0.1", "127.0.0.1:http", "1.2.3.4:70000", ""}},
		{"HostPort", HostPort, []string{"relay.example.com:2855", "192.0.2.7:1", "[2001:db8::1]:443"}, []string{":2855", "relay:0", "relay", "a b:1"}},
		{"HostName", HostName, []string{"relay.example.com", "127.0.0.1", "::1", "[::1]", "r_1"}, []string{"", "a b", "relay/x", "é.example"}},
		{"Origin", Origin, []string{"*", "https://chat.example.com", "http://localhost:8080", "https://chat.example.com/"}, []string{"chat.example.com", "https://", "https://a.example/page", "*.example.com"}},
		{"NetOrName", NetOrName, []string{"10.0.0.0/8", "fd00::/8", "10.1.2.3", "relay.example.com"}, []string{"10.0.0.0/33", "10.0.0/8", "a b", "http://x"}},
	} {
		for _, s := range tc.good {
			if err := tc.check(s); err != nil {
				t.Errorf("%s(%q) = %v, want ok", tc.name, s, err)
			}
		}
		for _, s := range tc.bad {
			if err := tc.check(s); err == nil || !strings.HasPrefix(err.Error(), "want ") {
				t.Errorf("%s(%q) = %v, want an error saying what it wants", tc.name, s, err)
			}
		}
	}
}

func TestUserPassHidesPasswords(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		empty    bool
	}{
		{"alice", `--user "alice": want NAME:PASSWORD`, false},
		{":secret", "--user: want NAME:PASSWORD; the name is empty", false},
		{"alice:", `--user "alice:": want NAME:PASSWORD; the password is empty`, false},
		{"alice:", "", true},
		{"alice:pw", "", false},
	} {
		err := UserPass("user", tc.in, tc.empty)
		if got := errString(err); got != tc.want {
			t.Errorf("UserPass(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestOnCommandLine(t *testing.T) {
	args := []string{"--tcp", "127.0.0.1:0", "-ws=:0", "--user=a:b", "--", "--realm"}
	for name, want := range map[string]bool{"tcp": true, "ws": true, "user": true, "realm": false, "tc": false, "wss": false} {
		if got := onCommandLine(args, name); got != want {
			t.Errorf("onCommandLine(%q) = %v, want %v", name, got, want)
		}
	}
}
