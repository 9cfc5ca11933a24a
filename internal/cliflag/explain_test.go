package cliflag

import (
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// testApp is an app with one flag of each kind, run through the real
// parser, so the messages Explain rewrites are the parser's own.
func testApp(action cli.ActionFunc) *cli.App {
	return &cli.App{
		Name:      "tool",
		HelpName:  "tool",
		Writer:    io.Discard,
		ErrWriter: io.Discard,
		Flags: []cli.Flag{
			&cli.GenericFlag{Name: "interval", EnvVars: []string{"TOOL_INTERVAL"}, Value: &Duration{D: 20 * time.Second}},
			&cli.GenericFlag{Name: "misses", Value: &Int{N: 2, Min: 1}},
			&cli.GenericFlag{Name: "chunk", Value: &Size{N: 64 << 10}},
			&cli.GenericFlag{Name: "rate", Value: &Float{}},
			&cli.GenericFlag{Name: "mode", Value: &Choice{V: "auto", Choices: []string{"auto", "off"}}},
			&cli.BoolFlag{Name: "web", Value: true, EnvVars: []string{"TOOL_WEB"}},
			&cli.DurationFlag{Name: "plain-duration"},
			&cli.IntFlag{Name: "plain-int", EnvVars: []string{"TOOL_PLAIN_INT"}},
			&cli.StringFlag{Name: "name"},
		},
		OnUsageError: OnUsageError,
		Action:       action,
	}
}

var singleDash = regexp.MustCompile(`(^|[\s(])-[a-z]`)

func TestExplain(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"duration", []string{"--interval", "5x"}, nil, `--interval "5x": use a duration such as 5s, 1m or 1h30m, or a number of seconds`},
		{"negative duration", []string{"--interval=-3s"}, nil, `--interval "-3s": must not be negative`},
		{"int", []string{"--misses", "0"}, nil, `--misses "0": want a whole number of at least 1`},
		{"size", []string{"--chunk", "lots"}, nil, `--chunk "lots": want a size in bytes such as 65536, 64KiB or 16MiB`},
		{"float", []string{"--rate", "fast"}, nil, `--rate "fast": want a number of at least 0`},
		{"choice", []string{"--mode", "on"}, nil, `--mode "on": want auto or off`},
		{"bool", []string{"--web=maybe"}, nil, `--web "maybe": want true or false (--web alone means true)`},
		{"plain duration", []string{"--plain-duration", "5"}, nil, `--plain-duration "5": use a duration such as 5s`},
		{"plain int", []string{"--plain-int", "x"}, nil, `--plain-int "x": want a whole number`},
		{"unknown", []string{"--nope"}, nil, "unknown flag --nope (tool --help lists the flags)"},
		{"single dash unknown", []string{"-nope"}, nil, "unknown flag --nope (tool --help lists the flags)"},
		{"no value", []string{"--name"}, nil, "--name needs a value"},
		{"quote in value", []string{"--interval", `5"s`}, nil, `--interval "5\"s": use a duration`},
		{"env generic", nil, map[string]string{"TOOL_INTERVAL": "5x"}, `TOOL_INTERVAL="5x" (--interval): use a duration such as 5s`},
		{"env bool", nil, map[string]string{"TOOL_WEB": "maybe"}, `TOOL_WEB="maybe" (--web): want true or false`},
		{"env int", nil, map[string]string{"TOOL_PLAIN_INT": "x"}, `TOOL_PLAIN_INT="x" (--plain-int): want a whole number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			err := testApp(func(*cli.Context) error { return nil }).Run(append([]string{"tool"}, tc.args...))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("tool %q: %v\nwant %s", tc.args, err, tc.want)
			}
			if strings.Contains(err.Error(), "parse error") || singleDash.MatchString(err.Error()) {
				t.Errorf("tool %q: %v: still the parser's words", tc.args, err)
			}
		})
	}
}

// TestValuesReadByTypedGetters: c.Duration, c.Int, c.Float64 and
// c.String read the values as they read urfave/cli's own flag types, so
// code that uses them keeps working when a flag becomes a value here.
func TestValuesReadByTypedGetters(t *testing.T) {
	var got []any
	read := func(c *cli.Context) error {
		got = []any{c.Duration("interval"), c.Int("misses"), c.Int("chunk"), c.Float64("rate"), c.String("mode")}
		return nil
	}
	if err := testApp(read).Run([]string{"tool", "--interval", "90", "--misses", "3", "--chunk", "8KiB", "--rate", "2.5", "--mode", "OFF"}); err != nil {
		t.Fatal(err)
	}
	want := []any{90 * time.Second, 3, 8192, 2.5, "off"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("value %d = %v, want %v", i, got[i], want[i])
		}
	}
	// Defaults read the same way. (A value keeps what it was set to: each
	// run needs its flags made afresh, as each process makes them.)
	if err := testApp(read).Run([]string{"tool"}); err != nil {
		t.Fatal(err)
	}
	want = []any{20 * time.Second, 2, 65536, 0.0, "auto"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("default %d = %v, want %v", i, got[i], want[i])
		}
	}
}
