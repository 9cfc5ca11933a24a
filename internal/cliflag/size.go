package cliflag

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Size is a flag value for a byte count: a plain number (65536) or one
// with a unit, KiB or MiB (64KiB, 16MiB; k, m, KB and MB mean the same).
type Size struct {
	// N is the value in bytes: the default until the flag is set.
	N int
	// Min is the smallest size accepted; 0 means 1.
	Min int
}

// Set parses s.
func (v *Size) Set(s string) error {
	n, err := ParseSize(s)
	if err != nil {
		return err
	}
	if min := max(v.Min, 1); n < min {
		return fmt.Errorf("must be at least %s", FormatSize(min))
	}
	v.N = n
	return nil
}

// String returns the value in bytes, in decimal (so that c.Int reads it);
// flags show FormatSize of the default as their DefaultText.
func (v *Size) String() string { return strconv.Itoa(v.N) }

var errSize = errors.New("want a size in bytes such as 65536, 64KiB or 16MiB")

// ParseSize reads a byte count such as "65536", "64KiB", "64k" or
// "16MiB", from 1 byte to 2 GiB - 1.
func ParseSize(s string) (int, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := 1
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"kb", 1 << 10}, {"mb", 1 << 20}, {"k", 1 << 10}, {"m", 1 << 20}, {"b", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.Atoi(t)
	switch {
	case err != nil:
		return 0, errSize
	case n <= 0:
		return 0, errors.New("must be more than 0")
	case n > (1<<31-1)/mult:
		return 0, errors.New("too large (at most 2GiB - 1)")
	}
	return n * mult, nil
}

// FormatSize writes n as ParseSize reads it, in the largest unit that
// divides it: 16MiB, 64KiB, 1000.
func FormatSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n)
}
