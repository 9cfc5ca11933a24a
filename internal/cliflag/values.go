// Package cliflag holds what msrpd and msrpcat share about flags: values
// whose errors say what a good value looks like (Duration, Int, Size,
// Choice, Float), checks for values given as plain strings (addresses,
// host names), and Explain, which turns the flag parser's errors into
// lines that name the flag as the help does (--name, or the environment
// variable that carried the bad value).
//
// Each value's String is the canonical form urfave/cli's typed getters
// parse (Duration: "20s", Int and Size: decimal), so c.Duration, c.Int
// and c.Float64 read them as they read cli.DurationFlag and friends.
package cliflag

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a flag value for a duration that is not negative, written
// as Go writes it (500ms, 5s, 1m30s) or as a bare number of seconds (30,
// 1.5), the way SIP and MSRP configurations write Expires.
type Duration struct {
	// D is the value: the default until the flag is set.
	D time.Duration
	// NonZero refuses 0, for settings where 0 would mean neither "off"
	// nor anything else a user could want.
	NonZero bool
}

// Set parses s.
func (v *Duration) Set(s string) error {
	d, err := ParseDuration(s)
	if err != nil {
		return err
	}
	if d == 0 && v.NonZero {
		return errors.New("must be more than 0")
	}
	v.D = d
	return nil
}

// String returns the value as time.ParseDuration reads it.
func (v *Duration) String() string { return v.D.String() }

// errDuration is what a value that is no duration gets told.
var errDuration = errors.New("use a duration such as 5s, 1m or 1h30m, or a number of seconds")

// ParseDuration reads a duration that is not negative: Go's form or a
// bare number of seconds.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if isDecimal(strings.TrimPrefix(t, "-")) {
		f, _ := strconv.ParseFloat(t, 64)
		if f < 0 {
			return 0, errors.New("must not be negative")
		}
		if f >= float64(math.MaxInt64)/float64(time.Second) {
			return 0, errors.New("too long")
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, errDuration
	}
	if d < 0 {
		return 0, errors.New("must not be negative")
	}
	return d, nil
}

// isDecimal reports whether s is digits with at most one decimal point
// among them ("30", "1.5"), what ParseDuration reads as seconds.
func isDecimal(s string) bool {
	digits, points := 0, 0
	for _, c := range s {
		switch {
		case '0' <= c && c <= '9':
			digits++
		case c == '.':
			points++
		default:
			return false
		}
	}
	return digits > 0 && points <= 1
}

// Int is a flag value for a whole number of at least Min, or -1 where
// MinusOne says what -1 means ("no limit", "forever").
type Int struct {
	// N is the value: the default until the flag is set.
	N int
	// Min is the smallest value accepted (besides -1 with MinusOne).
	Min int
	// MinusOne, if set, admits -1 and is what the error message says it
	// means.
	MinusOne string
}

// Set parses s.
func (v *Int) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < v.Min && !(n == -1 && v.MinusOne != "") {
		return v.want()
	}
	v.N = n
	return nil
}

func (v *Int) want() error {
	msg := fmt.Sprintf("want a whole number of at least %d", v.Min)
	if v.MinusOne != "" {
		msg += ", or -1 for " + v.MinusOne
	}
	return errors.New(msg)
}

// String returns the value in decimal.
func (v *Int) String() string { return strconv.Itoa(v.N) }

// Float is a flag value for a number of at least Min.
type Float struct {
	// F is the value: the default until the flag is set.
	F float64
	// Min is the smallest value accepted.
	Min float64
}

// Set parses s.
func (v *Float) Set(s string) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < v.Min {
		return fmt.Errorf("want a number of at least %s", strconv.FormatFloat(v.Min, 'g', -1, 64))
	}
	v.F = f
	return nil
}

// String returns the value as strconv.ParseFloat reads it.
func (v *Float) String() string { return strconv.FormatFloat(v.F, 'g', -1, 64) }

// Choice is a flag value that must be one of Choices (compared without
// regard to case; the value is stored in lower case).
type Choice struct {
	// V is the value: the default until the flag is set.
	V string
	// Choices are the values accepted, in the order the error lists them.
	Choices []string
}

// Set checks s against the choices.
func (v *Choice) Set(s string) error {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, c := range v.Choices {
		if t == c {
			v.V = t
			return nil
		}
	}
	return fmt.Errorf("want %s", orList(v.Choices))
}

// String returns the value.
func (v *Choice) String() string { return v.V }

// orList writes a, b or c.
func orList(s []string) string {
	switch len(s) {
	case 0:
		return "nothing"
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
