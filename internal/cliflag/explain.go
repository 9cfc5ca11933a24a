package cliflag

import (
	"errors"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"
)

// The parser's messages. Go's flag package writes flags with one dash
// and says "parse error" for any bad value it parses itself; urfave/cli
// reports bad environment variables in its own words. Their formats are
// stable (Go's are covered by its compatibility promise).
const quoted = `("(?:[^"\\]|\\.)*")`

var (
	badValue      = regexp.MustCompile(`^invalid value ` + quoted + ` for flag -+([\w.-]+): (.*)$`)
	badBool       = regexp.MustCompile(`^invalid boolean value ` + quoted + ` for -+([\w.-]+): .*$`)
	unknownFlag   = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	needsValue    = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
	badEnvGeneric = regexp.MustCompile(`^could not parse ` + quoted + ` from (?:environment variable "([^"]*)"|(file "[^"]*")) as value for flag ([\w.-]+): (.*)$`)
	badEnvTyped   = regexp.MustCompile(`^could not parse ` + quoted + ` as (\w+)(?: slice)? value from (?:environment variable "([^"]*)"|(file "[^"]*")) for flag ([\w.-]+): (.*)$`)
)

// wants says what a good value of a plain urfave/cli flag type is.
var wants = map[string]string{
	"bool":     "want true or false",
	"int":      "want a whole number",
	"uint":     "want a whole number",
	"uint64":   "want a whole number",
	"int64":    "want a whole number",
	"float64":  "want a number",
	"duration": errDuration.Error(),
}

// Explain rewrites an error of the flag parser so that it names the flag
// as the help does (--ping-interval), or the environment variable that
// carried the bad value, and says what a good value looks like:
//
//	invalid value "5x" for flag -ping-interval: use a duration ...
//	  -> --ping-interval "5x": use a duration ...
//	could not parse "5x" from environment variable "MSRPD_PING_INTERVAL" as value for flag ping-interval: ...
//	  -> MSRPD_PING_INTERVAL="5x" (--ping-interval): ...
//
// help is the command whose --help lists the flags ("msrpcat send"),
// named when a flag is unknown; flags are its flags, whose types tell
// what a good value is where the parser only says "parse error". Other
// errors are returned as they are.
func Explain(err error, help string, flags []cli.Flag) error {
	if err == nil {
		return nil
	}
	s := err.Error()
	if m := badValue.FindStringSubmatch(s); m != nil {
		return errors.New("--" + m[2] + " " + m[1] + ": " + reason(m[3], typeOf(flags, m[2])))
	}
	if m := badBool.FindStringSubmatch(s); m != nil {
		return errors.New("--" + m[2] + " " + m[1] + ": want true or false (--" + m[2] + " alone means true)")
	}
	if m := unknownFlag.FindStringSubmatch(s); m != nil {
		return errors.New("unknown flag --" + m[1] + " (" + help + " --help lists the flags)")
	}
	if m := needsValue.FindStringSubmatch(s); m != nil {
		return errors.New("--" + m[1] + " needs a value")
	}
	if m := badEnvGeneric.FindStringSubmatch(s); m != nil {
		return errors.New(source(m[2], m[3]) + "=" + m[1] + " (--" + m[4] + "): " + m[5])
	}
	if m := badEnvTyped.FindStringSubmatch(s); m != nil {
		return errors.New(source(m[3], m[4]) + "=" + m[1] + " (--" + m[5] + "): " + reason(m[6], m[2]))
	}
	return err
}

// reason keeps a value's own explanation and replaces the parser's
// uninformative ones by what the flag's type wants.
func reason(msg, typ string) string {
	if msg == "parse error" || msg == "value out of range" || strings.HasPrefix(msg, "strconv.") || strings.HasPrefix(msg, "time: ") {
		if w, ok := wants[typ]; ok {
			return w
		}
		return "not a valid value"
	}
	return msg
}

// typeOf names the type of the flag called name, as urfave/cli's
// environment errors do.
func typeOf(flags []cli.Flag, name string) string {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			switch f.(type) {
			case *cli.BoolFlag:
				return "bool"
			case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag:
				return "int"
			case *cli.Float64Flag:
				return "float64"
			case *cli.DurationFlag:
				return "duration"
			}
		}
	}
	return ""
}

func source(env, file string) string {
	if env != "" {
		return env
	}
	return file
}

// OnUsageError is the cli.OnUsageErrorFunc of msrpd and msrpcat's
// commands: one line that says which flag and why, not the whole help.
func OnUsageError(c *cli.Context, err error, _ bool) error {
	help, flags := c.App.Name, c.App.Flags
	if c.Command != nil && c.Command.HelpName != "" {
		help, flags = c.Command.HelpName, c.Command.Flags
	}
	return Explain(err, help, flags)
}
