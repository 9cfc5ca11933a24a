package keepalive

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	tests := []struct {
		name    string
		rate    float64
		burst   int
		n       int           // events
		every   time.Duration // spacing
		wantAll bool          // all allowed
		wantOK  int           // else: allowed before the first refusal
	}{
		{"burst then refuse", 10, 5, 20, 0, false, 5},
		{"sustained under rate", 10, 5, 50, 150 * time.Millisecond, true, 0},
		{"sustained over rate", 10, 5, 50, 50 * time.Millisecond, false, 9},
		{"disabled", -1, 5, 1000, 0, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := Config{FloodRate: tc.rate, FloodBurst: tc.burst}.WithDefaults()
			var l Limiter
			now := time.Now()
			ok := 0
			for i := 0; i < tc.n; i++ {
				if !l.Allow(now, &cfg) {
					break
				}
				ok++
				now = now.Add(tc.every)
			}
			if tc.wantAll && ok != tc.n {
				t.Fatalf("allowed %d of %d, want all", ok, tc.n)
			}
			if !tc.wantAll && ok != tc.wantOK {
				t.Fatalf("allowed %d before refusing, want %d", ok, tc.wantOK)
			}
		})
	}
}

func TestParseModeAndDefaults(t *testing.T) {
	tests := []struct {
		in      string
		want    Mode
		wantErr bool
	}{
		{"", ModeAuto, false}, {"auto", ModeAuto, false}, {"Frames", ModeFrames, false},
		{"send", ModeSend, false}, {"off", ModeOff, false}, {"pings", "", true},
	}
	for _, tc := range tests {
		got, err := ParseMode(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ParseMode(%q) = %q, %v; want %q, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	cfg, err := Config{}.WithDefaults()
	if err != nil || cfg.Interval != 20*time.Second || cfg.Timeout != 20*time.Second || cfg.Misses != 2 || cfg.Mode != ModeAuto || !cfg.Enabled() {
		t.Fatalf("defaults = %+v, %v", cfg, err)
	}
	if cfg, _ := (Config{Interval: -1}).WithDefaults(); cfg.Enabled() {
		t.Fatal("negative interval must disable probing")
	}
	if _, err := (Config{Misses: -2}).WithDefaults(); err == nil {
		t.Fatal("negative misses accepted")
	}
}
