// Command report turns the raw results of bench/run.sh (bench/results/*.jsonl
// and env.txt) into BENCHMARKS.md with tables of medians, msrpd/Kamailio
// ratios and the targets, and PNG charts drawn by gnuplot.
//
//	go run ./bench/report [-results bench/results] [-out BENCHMARKS.md]
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// result is the JSON object `msrpcat bench --json` prints.
type result struct {
	Relay      string  `json:"relay"`
	Transport  string  `json:"transport"`
	Pairs      int     `json:"pairs"`
	Messages   int     `json:"messages"`
	Size       int     `json:"size"`
	Chunk      int     `json:"chunk"`
	Window     int     `json:"window"`
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_sec"`
	MBPerSec   float64 `json:"mb_per_sec"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	P999       float64 `json:"p999_ms"`
	Lost       int64   `json:"lost"`
	Corrupted  int64   `json:"corrupted"`
	Errors     int64   `json:"errors"`
}

// run is one line of a group's .jsonl file.
type run struct {
	Group     string  `json:"group"`
	Cell      string  `json:"cell"`
	Transport string  `json:"transport"`
	RelayName string  `json:"relay_name"`
	Run       int     `json:"run"`
	RC        int     `json:"rc"`
	Fake      bool    `json:"fake"`
	Args      string  `json:"args"`
	RelayCPU  float64 `json:"relay_cpu_s"`
	ClientCPU float64 `json:"client_cpu_s"`
	Result    *result `json:"result"`
}

// idleRun is one line of idle.jsonl.
type idleRun struct {
	RelayName string          `json:"relay_name"`
	Run       int             `json:"run"`
	Conns     int             `json:"conns"`
	Procs     int             `json:"procs"`
	RSSBase   float64         `json:"rss_base_kb"`
	RSS       float64         `json:"rss_kb"`
	PSSBase   float64         `json:"pss_base_kb"`
	PSS       float64         `json:"pss_kb"`
	Ticks     []float64       `json:"ticks"`
	ClkTck    float64         `json:"clk_tck"`
	Ready     *idleClient     `json:"client_ready"`
	Done      *idleClient     `json:"client_done"`
	Raw       json.RawMessage `json:"-"`
}

type idleClient struct {
	Open       int    `json:"open"`
	DialFailed int    `json:"dial_failed"`
	AuthFailed int    `json:"auth_failed"`
	Closed     int    `json:"closed"`
	FirstError string `json:"first_error"`
}

// open is how many connections were open for the whole measurement.
func (r idleRun) open() int {
	if r.Done != nil {
		return r.Done.Open
	}
	if r.Ready != nil {
		return r.Ready.Open
	}
	return 0
}

func (r idleRun) rssPerConn() float64 { return perConn(r.RSS-r.RSSBase, r.open()) }
func (r idleRun) pssPerConn() float64 { return perConn(r.PSS-r.PSSBase, r.open()) }

func perConn(kb float64, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return kb * 1024 / float64(n)
}

// cpu returns % of one core over the whole window and the largest 10 s one.
func (r idleRun) cpu() (mean, max10 float64) {
	if len(r.Ticks) < 3 || r.ClkTck == 0 {
		return math.NaN(), math.NaN()
	}
	a := (r.Ticks[1] - r.Ticks[0]) / r.ClkTck / 10 * 100
	b := (r.Ticks[2] - r.Ticks[1]) / r.ClkTck / 10 * 100
	return (a + b) / 2, math.Max(a, b)
}

var (
	resultsDir = flag.String("results", "bench/results", "directory with the .jsonl results and env.txt")
	outFile    = flag.String("out", "BENCHMARKS.md", "Markdown report to write")
	chartDir   = flag.String("charts", "", "directory for the PNG charts (default: -results)")
	notesFile  = flag.String("notes", "bench/ANALYSIS.md", "hand-written analysis included in the report, if present")
)

type data struct {
	env   map[string]string
	envKV [][2]string
	runs  map[string][]run // by group
	idle  []idleRun
	fake  bool
}

func main() {
	flag.Parse()
	if *chartDir == "" {
		*chartDir = *resultsDir
	}
	d, err := load(*resultsDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	charts, err := drawCharts(d, *chartDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report: charts:", err)
	}
	md := render(d, charts)
	if err := os.WriteFile(*outFile, []byte(md), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "report: wrote %s and %d charts\n", *outFile, len(charts))
}

func load(dir string) (*data, error) {
	d := &data{env: map[string]string{}, runs: map[string][]run{}}
	if b, err := os.ReadFile(filepath.Join(dir, "env.txt")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				d.env[k] = v
				d.envKV = append(d.envKV, [2]string{k, v})
			}
		}
	}
	d.fake = d.env["fake"] == "true"
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no .jsonl results in %s (run bench/run.sh first)", dir)
	}
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		if base == "events" {
			continue
		}
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			if base == "idle" {
				var r idleRun
				if err := json.Unmarshal(line, &r); err != nil {
					return nil, fmt.Errorf("%s: %w", f, err)
				}
				d.idle = append(d.idle, r)
				continue
			}
			var r run
			if err := json.Unmarshal(line, &r); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			d.fake = d.fake || r.Fake
			d.runs[r.Group] = append(d.runs[r.Group], r)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// cellStats is the median of each metric over the runs of one cell and relay.
type cellStats struct {
	n, failed          int
	msgs, mb, p50, p99 float64
	p999               float64
	lossPct            float64 // median of lost / sent, %
	relayUS, clientUS  float64 // CPU µs per delivered message: relay (all processes), client
	mbPerCore          float64 // MB relayed per relay CPU-second
	msgsAll            []float64
	notes              []string
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (d *data) stats(group, cell, relay string) (cellStats, bool) {
	var cs cellStats
	var msgs, mb, p50, p99, p999, loss, rus, cus, mpc []float64
	for _, r := range d.runs[group] {
		if r.Cell != cell || r.RelayName != relay {
			continue
		}
		cs.n++
		bad := r.RC != 0 || r.Result == nil
		if r.Result != nil && (r.Result.Lost > 0 || r.Result.Corrupted > 0 || r.Result.Errors > 0) {
			bad = true
			cs.notes = append(cs.notes, fmt.Sprintf("run %d: lost %d, corrupted %d, errors %d",
				r.Run, r.Result.Lost, r.Result.Corrupted, r.Result.Errors))
		} else if bad {
			cs.notes = append(cs.notes, fmt.Sprintf("run %d: exit %d, no result", r.Run, r.RC))
		}
		if bad {
			cs.failed++
		}
		if r.Result == nil {
			continue
		}
		msgs = append(msgs, r.Result.MsgsPerSec)
		mb = append(mb, r.Result.MBPerSec)
		p50 = append(p50, r.Result.P50)
		p99 = append(p99, r.Result.P99)
		p999 = append(p999, r.Result.P999)
		if r.Result.Messages > 0 {
			loss = append(loss, 100*float64(r.Result.Lost)/float64(r.Result.Messages))
		}
		if delivered := r.Result.MsgsPerSec * r.Result.Seconds; delivered > 0 && r.RelayCPU > 0 {
			rus = append(rus, r.RelayCPU/delivered*1e6)
			cus = append(cus, r.ClientCPU/delivered*1e6)
			mpc = append(mpc, r.Result.MBPerSec*r.Result.Seconds/r.RelayCPU)
		}
	}
	if cs.n == 0 {
		return cs, false
	}
	cs.msgs, cs.mb, cs.p50, cs.p99, cs.p999 = median(msgs), median(mb), median(p50), median(p99), median(p999)
	cs.msgsAll = msgs
	cs.lossPct = median(loss)
	cs.relayUS, cs.clientUS, cs.mbPerCore = median(rus), median(cus), median(mpc)
	return cs, true
}

// --- formatting ---------------------------------------------------------

func num(x float64) string {
	switch {
	case math.IsNaN(x):
		return "–"
	case x >= 100:
		return commas(int64(math.Round(x)))
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	case x >= 1:
		return fmt.Sprintf("%.2f", x)
	default:
		return fmt.Sprintf("%.3f", x)
	}
}

func pct(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	if x == 0 {
		return "0"
	}
	return fmt.Sprintf("%.1f %%", x)
}

func commas(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func mark(cs cellStats, ok bool) string {
	if !ok {
		return ""
	}
	if cs.failed > 0 {
		return fmt.Sprintf(" ⚠%d/%d", cs.failed, cs.n)
	}
	return ""
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1024 && n%1024 == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

type target struct {
	what, measured string
	met            bool
	known          bool
}

func yes(t target) string {
	switch {
	case !t.known:
		return "not measured"
	case t.met:
		return "**met**"
	}
	return "**missed**"
}

func render(d *data, charts []string) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# Benchmarks: msrpd and Kamailio side by side\n\n")
	w("<!-- Generated by `go run ./bench/report` from bench/results/; do not edit by hand.\n")
	w("     Edit bench/ANALYSIS.md (included below) or bench/report/main.go instead. -->\n\n")
	if d.fake {
		w("> **FAKE DATA.** These results were produced with `bench/fakecat`, a stand-in for\n")
		w("> `msrpcat bench`, to test the harness. They measure nothing; rerun `make bench-relays`.\n\n")
	}
	w("msrpd and Kamailio %s's `msrp` module relay the same load from the same client\n", d.env["kamailio"])
	w("(`msrpcat bench`) on the same machine over the same loopback, one relay at a time,\n")
	w("alternating which relay goes first in each round. Every figure is the **median of %s runs**;\n", orDash(d.env["runs"]))
	w("ratios are msrpd / Kamailio (for throughput higher is better, for latency and memory lower is better).\n\n")

	// Targets.
	ts := d.targets()
	w("## Targets (issue 5)\n\n| target | measured | |\n|---|---|---|\n")
	for _, t := range ts {
		w("| %s | %s | %s |\n", t.what, t.measured, yes(t))
	}
	w("\n")

	// Machine.
	w("## Machine and versions\n\n| | |\n|---|---|\n")
	labels := map[string]string{
		"date": "date (UTC)", "nproc": "CPUs (nproc)", "cpu": "CPU model", "mem": "memory",
		"kernel": "kernel", "os": "OS", "go": "Go", "kamailio": "Kamailio",
		"msrpd_commit": "msrpd commit", "kamailio_tcp_children": "Kamailio tcp_children",
		"keepalive_s": "keepalive interval, both relays and idle clients (s)",
		"runs":        "runs per cell and relay", "duration": "throughput run length",
		"lat_duration": "latency run length", "lat_rate": "latency cells: total rate (msg/s)",
		"idle_conns": "idle connections",
	}
	for _, kv := range d.envKV {
		if l, ok := labels[kv[0]]; ok {
			w("| %s | %s |\n", l, kv[1])
		}
	}
	w("\nBoth relays listen on 127.0.0.1 only. msrpd: `--log-level warn --max-connections 30000 --ping-interval 20s --forward-chunk 64KiB --max-chunk 16MiB`, GOMAXPROCS = all CPUs. Kamailio: `../shared/peers/kamailio/kamailio.cfg` via its start.sh (`DBGLVL=0`, `WS_KEEPALIVE=20`, `TCP_MAX_CONNECTIONS=30000`, `SHM_MB=2048`, tcp_async with 8 MB write queues per connection). Users alice/alicepw and bob/bobpw, Digest realm 127.0.0.1, on both. The client competes with the relay for the same 2 cores; that caps both relays alike.\n\n")

	w("## How to run\n\n```\nmake bench-relays                 # bench/run.sh, then go run ./bench/report (about 13 minutes)\n")
	w("bench/run.sh                      # the matrix only; raw JSON lines in bench/results/*.jsonl\n")
	w("BENCH_GROUPS=\"small idle\" RUNS=1 bench/run.sh   # a subset\n")
	w("go run ./bench/report             # BENCHMARKS.md and bench/results/*.png from the results\n")
	w("bench/relays.sh                   # just start both relays on free ports (Ctrl-C stops them)\n")
	w("bench/profile.sh                  # CPU profiles of msrpd under load (bench/msrpd-pprof)\n```\n\n")
	w("Each load cell runs, against each relay:\n\n```\nmsrpcat bench --relay URL --user alice:alicepw --user2 bob:bobpw FLAGS --json\n```\n\n")
	w("with URL `ws://127.0.0.1:PORT/` or `msrp://127.0.0.1:PORT;tcp` and FLAGS as listed per table (\"--messages\" is large, `--duration` ends the run).\n\n")

	d.renderSmall(w)
	d.renderSize(w)
	d.renderLarge(w)
	d.renderLatency(w)
	d.renderIdle(w)
	d.renderScaling(w)

	if len(charts) > 0 {
		w("## Charts\n\n")
		for _, c := range charts {
			w("![%s](%s)\n\n", strings.TrimSuffix(filepath.Base(c), ".png"), filepath.ToSlash(c))
		}
		w("Kamailio's points are delivered messages: where it lost messages (⚠ in the tables) its queues held far more than the window, which is also why its full-load latencies are so high.\n\n")
	}
	d.renderFailures(w)
	renderProfiles(w)
	if b, err := os.ReadFile(*notesFile); err == nil {
		w("%s\n", strings.TrimSpace(string(b)))
	} else if !errors.Is(err, fs.ErrNotExist) {
		w("(could not read %s: %v)\n", *notesFile, err)
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func (d *data) args(group, cell string) string {
	for _, r := range d.runs[group] {
		if r.Cell == cell {
			return r.Args
		}
	}
	return ""
}

type wfn func(format string, a ...any)

func (d *data) renderSmall(w wfn) {
	if len(d.runs["small"]) == 0 {
		return
	}
	w("## 1. Small messages: 200-byte SENDs, window 32\n\nFlags: `%s`.\n\n", d.args("small", "small-ws"))
	w("| transport | msrpd msg/s | Kamailio msg/s | ratio | msrpd p50 ms | Kamailio p50 ms | ratio | msrpd p99 ms | Kamailio p99 ms | ratio | msrpd lost | Kamailio lost |\n")
	w("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, t := range []string{"ws", "tcp"} {
		m, mok := d.stats("small", "small-"+t, "msrpd")
		k, kok := d.stats("small", "small-"+t, "kamailio")
		w("| %s | %s%s | %s%s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", strings.ToUpper(t),
			num(m.msgs), mark(m, mok), num(k.msgs), mark(k, kok), ratio(m.msgs, k.msgs),
			num(m.p50), num(k.p50), ratio(m.p50, k.p50), num(m.p99), num(k.p99), ratio(m.p99, k.p99),
			pct(m.lossPct), pct(k.lossPct))
	}
	w("\nmsg/s counts messages *delivered* to the receiving endpoints (intact, in time) per second; \"lost\" is the median share of messages the relay acknowledged with 200 but never delivered. Latency runs from the sender handing a message to its endpoint to the receiver getting it.\n\n")
	d.renderCPU(w, []cpuRow{{"small", "small-ws", "WS, 200 B"}, {"small", "small-tcp", "TCP, 200 B"},
		{"size", "size2048-ws", "WS, 2 KiB"}, {"size", "size2048-tcp", "TCP, 2 KiB"},
		{"size", "size8192-ws", "WS, 8 KiB"}, {"size", "size8192-tcp", "TCP, 8 KiB"},
		{"scaling", "scaling1-ws", "WS, 200 B, 1 pair"}})
}

type cpuRow struct{ group, cell, label string }

// renderCPU shows what each delivered message cost in CPU: the relay's
// (all its processes, from /proc/PID/stat over the whole run) and the
// client's. Unlike msg/s this does not depend on how much CPU the client
// left over.
func (d *data) renderCPU(w wfn, rows []cpuRow) {
	any := false
	for _, r := range rows {
		if m, ok := d.stats(r.group, r.cell, "msrpd"); ok && !math.IsNaN(m.relayUS) {
			any = true
		}
	}
	if !any {
		return
	}
	w("CPU per delivered message (µs; relay = all its processes over the whole run including connection setup and drain, from /proc/PID/stat; client = `msrpcat bench`). The relay and the client share 2 cores, so msg/s is capped by their sum; the relay's own cost is the client-independent comparison:\n\n")
	w("| cell | msrpd relay µs/msg | Kamailio relay µs/msg | ratio | client µs/msg (msrpd run) | client µs/msg (Kamailio run) |\n|---|--:|--:|--:|--:|--:|\n")
	for _, r := range rows {
		m, mok := d.stats(r.group, r.cell, "msrpd")
		k, kok := d.stats(r.group, r.cell, "kamailio")
		if !mok && !kok {
			continue
		}
		w("| %s | %s | %s | %s | %s | %s |\n", r.label, num(m.relayUS), num(k.relayUS), ratio(m.relayUS, k.relayUS), num(m.clientUS), num(k.clientUS))
	}
	w("\n")
}

func (d *data) renderSize(w wfn) {
	if len(d.runs["size"]) == 0 && len(d.runs["small"]) == 0 {
		return
	}
	w("## Throughput against message size (one chunk per message)\n\n10 pairs, window 32, `--chunk` = `--size`; 200 B is table 1's cell.\n\n")
	w("| transport | size | msrpd msg/s | Kamailio msg/s | msrpd MB/s | Kamailio MB/s | ratio | msrpd p99 ms | Kamailio p99 ms | msrpd lost | Kamailio lost |\n")
	w("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, t := range []string{"ws", "tcp"} {
		for _, sz := range []int{200, 2048, 8192} {
			g, c := d.sizeCell(t, sz)
			m, mok := d.stats(g, c, "msrpd")
			k, kok := d.stats(g, c, "kamailio")
			if !mok && !kok {
				continue
			}
			w("| %s | %s | %s%s | %s%s | %s | %s | %s | %s | %s | %s | %s |\n", strings.ToUpper(t), sizeName(sz),
				num(m.msgs), mark(m, mok), num(k.msgs), mark(k, kok), num(m.mb), num(k.mb), ratio(m.msgs, k.msgs),
				num(m.p99), num(k.p99), pct(m.lossPct), pct(k.lossPct))
		}
	}
	w("\n")
}

func (d *data) sizeCell(t string, sz int) (group, cell string) {
	if sz == 200 {
		return "small", "small-" + t
	}
	return "size", fmt.Sprintf("size%d-%s", sz, t)
}

func (d *data) renderLarge(w wfn) {
	if len(d.runs["large"]) == 0 {
		return
	}
	w("## 2. Large transfers: 1 MiB messages in 8 KiB and 64 KiB chunks\n\nFlags: `%s` (and `--chunk 65536`). Kamailio cannot relay frames over about 14 KB (its MSRP_MAX_FRAME_SIZE; in practice bodies above ~10.9 KB fail), so 64 KiB chunks are msrpd only.\n\n", d.args("large", "large8k-tcp"))
	w("| transport | chunk | msrpd MB/s | Kamailio MB/s | ratio | msrpd p99 ms (per message) | Kamailio p99 ms | msrpd lost | Kamailio lost |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, t := range []string{"tcp", "ws"} {
		for _, ch := range []string{"8k", "64k"} {
			c := "large" + ch + "-" + t
			m, mok := d.stats("large", c, "msrpd")
			k, kok := d.stats("large", c, "kamailio")
			if !mok && !kok {
				continue
			}
			kmb := num(k.mb) + mark(k, kok)
			if !kok {
				kmb = "n/a"
			}
			kp99, kloss := num(k.p99), pct(k.lossPct)
			if !kok {
				kp99, kloss = "n/a", "n/a"
			}
			w("| %s | %s | %s%s | %s | %s | %s | %s | %s | %s |\n", strings.ToUpper(t), strings.ToUpper(ch[:len(ch)-1])+" KiB",
				num(m.mb), mark(m, mok), kmb, ratio(m.mb, k.mb), num(m.p99), kp99, pct(m.lossPct), kloss)
		}
	}
	w("\nMB/s is `mb_per_sec` of `msrpcat bench`: message payload bytes (10^6) delivered per second (all pairs, one direction).\n\n")
	w("Relay CPU cost of the large transfers, and what it implies: MB relayed per second of relay CPU, i.e. the rate one fully busy core would sustain if the client were not sharing the machine (a projection, not a measurement):\n\n")
	w("| transport | chunk | msrpd MB per relay CPU-s | Kamailio MB per relay CPU-s | ratio |\n|---|--:|--:|--:|--:|\n")
	for _, t := range []string{"tcp", "ws"} {
		for _, ch := range []string{"8k", "64k"} {
			c := "large" + ch + "-" + t
			m, mok := d.stats("large", c, "msrpd")
			k, kok := d.stats("large", c, "kamailio")
			if !mok {
				continue
			}
			kv := num(k.mbPerCore)
			if !kok {
				kv = "n/a"
			}
			w("| %s | %s | %s | %s | %s |\n", strings.ToUpper(t), strings.ToUpper(ch[:len(ch)-1])+" KiB",
				num(m.mbPerCore), kv, ratio(m.mbPerCore, k.mbPerCore))
		}
	}
	w("\n")
}

func (d *data) renderLatency(w wfn) {
	if len(d.runs["latency"]) == 0 {
		return
	}
	w("## 3. Latency at a fixed rate\n\nFlags: `%s`: %s msg/s in total, 200-byte messages.\n\n", d.args("latency", "latency-ws"), orDash(d.env["lat_rate"]))
	w("| transport | relay | achieved msg/s | p50 ms | p99 ms | p99.9 ms | lost |\n|---|---|--:|--:|--:|--:|--:|\n")
	for _, t := range []string{"ws", "tcp"} {
		m, mok := d.stats("latency", "latency-"+t, "msrpd")
		k, kok := d.stats("latency", "latency-"+t, "kamailio")
		w("| %s | msrpd | %s%s | %s | %s | %s | %s |\n", strings.ToUpper(t), num(m.msgs), mark(m, mok), num(m.p50), num(m.p99), num(m.p999), pct(m.lossPct))
		w("| %s | Kamailio | %s%s | %s | %s | %s | %s |\n", strings.ToUpper(t), num(k.msgs), mark(k, kok), num(k.p50), num(k.p99), num(k.p999), pct(k.lossPct))
		w("| %s | ratio | | %s | %s | %s | |\n", strings.ToUpper(t), ratio(m.p50, k.p50), ratio(m.p99, k.p99), ratio(m.p999, k.p999))
	}
	w("\n")
}

func (d *data) idleStats(relay string) (n int, open, rss, pss, cpuMean, cpuMax float64, notes []string) {
	var os_, rs, ps, cm, cx []float64
	for _, r := range d.idle {
		if r.RelayName != relay {
			continue
		}
		n++
		os_ = append(os_, float64(r.open()))
		rs = append(rs, r.rssPerConn())
		ps = append(ps, r.pssPerConn())
		a, b := r.cpu()
		cm = append(cm, a)
		cx = append(cx, b)
		if r.Done != nil && (r.Done.Closed > 0 || r.Done.DialFailed > 0 || r.Done.AuthFailed > 0) {
			notes = append(notes, fmt.Sprintf("%s run %d: %d dial failures, %d AUTH failures, %d closed while idle (%s)",
				relay, r.Run, r.Done.DialFailed, r.Done.AuthFailed, r.Done.Closed, r.Done.FirstError))
		}
	}
	return n, median(os_), median(rs), median(ps), median(cm), median(cx), notes
}

func (d *data) renderIdle(w wfn) {
	if len(d.idle) == 0 {
		return
	}
	w("## 4. Idle connections: %s authenticated WebSocket clients, keepalive on\n\n", orDash(d.env["idle_conns"]))
	w("`bench/idle` (a separate process) opens the connections over `ws://`, AUTHs each with Digest (no Expires), then stays silent; ")
	w("both sides send a WebSocket Ping after %s s without traffic and answer the other's. Each run starts a fresh relay. ", orDash(d.env["keepalive_s"]))
	w("**Memory** is the growth from before the clients connected to 25 s after all were authenticated, divided by the connections: ")
	w("VmRSS from /proc/PID/status (for Kamailio, the sum of VmRSS over all its %s processes, which counts shared memory once per process that touched it), ", d.kamProcs())
	w("and Pss from /proc/PID/smaps_rollup (shared pages divided among the processes sharing them, so the Kamailio sum counts its shared memory once). ")
	w("For msrpd, one process, the two agree. **CPU** is utime+stime from /proc/PID/stat (all processes for Kamailio) over 20 s, one keepalive interval, as %% of one core: the mean and the busier of the two 10 s halves.\n\n")
	w("| | msrpd | Kamailio | ratio |\n|---|--:|--:|--:|\n")
	mn, mo, mr, mp, mc, mx, mnotes := d.idleStats("msrpd")
	kn, ko, kr, kp, kc, kx, knotes := d.idleStats("kamailio")
	_ = mn
	_ = kn
	w("| connections open through the measurement | %s | %s | |\n", num(mo), num(ko))
	w("| RSS growth per connection (sum of VmRSS), bytes | %s | %s | %s |\n", num(mr), num(kr), ratio(mr, kr))
	w("| PSS growth per connection (sum of Pss), bytes | %s | %s | %s |\n", num(mp), num(kp), ratio(mp, kp))
	w("| idle CPU, %% of one core, mean over 20 s | %s | %s | %s |\n", num(mc), num(kc), ratio(mc, kc))
	w("| idle CPU, %% of one core, busier 10 s | %s | %s | %s |\n", num(mx), num(kx), ratio(mx, kx))
	w("\n")
	for _, n := range append(mnotes, knotes...) {
		w("- %s\n", n)
	}
	w("Per run (RSS base → loaded, kB):\n\n| relay | run | open | VmRSS kB | Pss kB | bytes/conn (RSS) | bytes/conn (PSS) | CPU %% 10 s + 10 s |\n|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range d.idle {
		a, b := "–", "–"
		if len(r.Ticks) == 3 && r.ClkTck > 0 {
			a = num((r.Ticks[1] - r.Ticks[0]) / r.ClkTck * 10)
			b = num((r.Ticks[2] - r.Ticks[1]) / r.ClkTck * 10)
		}
		w("| %s | %d | %d | %s → %s | %s → %s | %s | %s | %s, %s |\n", r.RelayName, r.Run, r.open(),
			num(r.RSSBase), num(r.RSS), num(r.PSSBase), num(r.PSS), num(r.rssPerConn()), num(r.pssPerConn()), a, b)
	}
	w("\n")
}

func (d *data) kamProcs() string {
	for _, r := range d.idle {
		if r.RelayName == "kamailio" {
			return fmt.Sprint(r.Procs)
		}
	}
	return "–"
}

func (d *data) renderScaling(w wfn) {
	if len(d.runs["scaling"]) == 0 {
		return
	}
	w("## 5. Scaling: concurrent pairs over WebSocket\n\nFlags: `%s` with `--pairs` 1, 10, 100, 1000 (each pair is two WebSocket connections; window 32 per pair).\n\n", d.args("scaling", "scaling1-ws"))
	w("| pairs | msrpd msg/s | Kamailio msg/s | ratio | msrpd p99 ms | Kamailio p99 ms | ratio | msrpd lost | Kamailio lost |\n|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, k := range []int{1, 10, 100, 1000} {
		c := fmt.Sprintf("scaling%d-ws", k)
		m, mok := d.stats("scaling", c, "msrpd")
		kk, kok := d.stats("scaling", c, "kamailio")
		if !mok && !kok {
			continue
		}
		w("| %d | %s%s | %s%s | %s | %s | %s | %s | %s | %s |\n", k, num(m.msgs), mark(m, mok), num(kk.msgs), mark(kk, kok),
			ratio(m.msgs, kk.msgs), num(m.p99), num(kk.p99), ratio(m.p99, kk.p99), pct(m.lossPct), pct(kk.lossPct))
	}
	w("\n")
}

func (d *data) renderFailures(w wfn) {
	var lines []string
	groups := make([]string, 0, len(d.runs))
	for g := range d.runs {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		for _, r := range d.runs[g] {
			switch {
			case r.Result == nil:
				lines = append(lines, fmt.Sprintf("- %s %s run %d: exit %d, no JSON result", r.Cell, r.RelayName, r.Run, r.RC))
			case r.RC != 0 || r.Result.Lost > 0 || r.Result.Corrupted > 0 || r.Result.Errors > 0:
				lines = append(lines, fmt.Sprintf("- %s %s run %d: exit %d, lost %d, corrupted %d, errors %d",
					r.Cell, r.RelayName, r.Run, r.RC, r.Result.Lost, r.Result.Corrupted, r.Result.Errors))
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(*resultsDir, "events.jsonl")); err == nil && len(bytes.TrimSpace(b)) > 0 {
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			lines = append(lines, "- event: `"+l+"`")
		}
	}
	w("## Failed runs\n\nA run fails when `msrpcat bench` exits non-zero (lost, corrupted or errored messages). Medians above include failed runs that printed a result; cells with failures are marked ⚠failed/runs.\n\n")
	if len(lines) == 0 {
		w("None.\n\n")
		return
	}
	w("%s\n\n", strings.Join(lines, "\n"))
}

func renderProfiles(w wfn) {
	files, _ := filepath.Glob(filepath.Join(*resultsDir, "profile-*.txt"))
	if len(files) == 0 {
		return
	}
	w("## CPU profiles of msrpd (bench/profile.sh)\n\n")
	w("10 s CPU profiles of `bench/msrpd-pprof` (the relay with net/http/pprof) under each load; full listings and the .pb.gz profiles are in bench/results/. Top functions by flat time:\n\n")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines := strings.Split(string(b), "\n")
		var out []string
		inFlat, inStats, taken := false, false, 0
		for _, l := range lines {
			switch {
			case strings.HasPrefix(l, "# "):
				out = append(out, l[2:])
			case l == "## flat":
				inFlat, inStats = true, false
			case l == "## memstats":
				inFlat, inStats = false, true
			case strings.HasPrefix(l, "## "):
				inFlat, inStats = false, false
			case inStats && strings.TrimSpace(l) != "":
				out = append(out, "  "+l)
			case inFlat && taken < 18 && strings.TrimSpace(l) != "":
				if strings.HasPrefix(strings.TrimSpace(l), "File:") || strings.HasPrefix(strings.TrimSpace(l), "Type:") ||
					strings.HasPrefix(strings.TrimSpace(l), "Time:") {
					continue
				}
				out = append(out, l)
				taken++
			}
		}
		w("**%s**\n\n```\n%s\n```\n\n", strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "profile-"), ".txt"), strings.Join(out, "\n"))
	}
}

// --- targets --------------------------------------------------------------

func (d *data) targets() []target {
	var ts []target
	for _, t := range []string{"ws", "tcp"} {
		m, mok := d.stats("small", "small-"+t, "msrpd")
		k, kok := d.stats("small", "small-"+t, "kamailio")
		tg := target{what: fmt.Sprintf("small-message throughput over %s ≥ 2× Kamailio", strings.ToUpper(t)), known: mok && kok}
		if tg.known {
			tg.measured = fmt.Sprintf("%s vs %s msg/s = %s", num(m.msgs), num(k.msgs), ratio(m.msgs, k.msgs))
			tg.met = m.msgs >= 2*k.msgs && m.failed == 0
		}
		ts = append(ts, tg)
	}
	for _, c := range []struct{ group, cell, label string }{
		{"small", "small-ws", "200 B, window 32, WS"}, {"small", "small-tcp", "200 B, window 32, TCP"},
		{"latency", "latency-ws", "fixed rate, WS"}, {"latency", "latency-tcp", "fixed rate, TCP"},
	} {
		m, mok := d.stats(c.group, c.cell, "msrpd")
		k, kok := d.stats(c.group, c.cell, "kamailio")
		tg := target{what: "p99 below Kamailio's (" + c.label + ")", known: mok && kok}
		if tg.known {
			tg.measured = fmt.Sprintf("%s vs %s ms", num(m.p99), num(k.p99))
			tg.met = m.p99 < k.p99
		}
		ts = append(ts, tg)
	}
	best, bestCell := math.NaN(), ""
	for _, c := range []string{"large64k-tcp", "large64k-ws"} {
		if m, ok := d.stats("large", c, "msrpd"); ok && (math.IsNaN(best) || m.mb > best) {
			best, bestCell = m.mb, c
		}
	}
	tg := target{what: "≥ 1 GB/s relayed with 64 KiB chunks", known: !math.IsNaN(best)}
	if tg.known {
		tg.measured = fmt.Sprintf("%s MB/s (%s)", num(best), bestCell)
		tg.met = best >= 1000
	}
	ts = append(ts, tg)
	_, _, rss, pss, _, _, _ := d.idleStats("msrpd")
	tg = target{what: "≤ 12 KiB per idle connection (msrpd)", known: !math.IsNaN(rss)}
	if tg.known {
		tg.measured = fmt.Sprintf("%s bytes RSS (%s PSS)", num(rss), num(pss))
		tg.met = rss <= 12*1024
	}
	ts = append(ts, tg)
	return ts
}

// --- charts -----------------------------------------------------------------

func drawCharts(d *data, dir string) ([]string, error) {
	if _, err := exec.LookPath("gnuplot"); err != nil {
		return nil, errors.New("gnuplot not found (apt-get install gnuplot-nox)")
	}
	var charts []string
	var errs []error
	add := func(name, script string) {
		png := filepath.Join(dir, name+".png")
		gp := filepath.Join(dir, name+".gp")
		full := "set terminal pngcairo size 1200,560 font 'DejaVu Sans,11' noenhanced\nset output '" + png + "'\n" + script
		if err := os.WriteFile(gp, []byte(full), 0o644); err != nil {
			errs = append(errs, err)
			return
		}
		cmd := exec.Command("gnuplot", gp)
		if out, err := cmd.CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %v: %s", gp, err, out))
			return
		}
		charts = append(charts, png)
	}
	series := []struct{ relay, t, title, style string }{
		{"msrpd", "ws", "msrpd WS", "lc rgb '#1f77b4' pt 7 dt 1"},
		{"msrpd", "tcp", "msrpd TCP", "lc rgb '#1f77b4' pt 5 dt 2"},
		{"kamailio", "ws", "Kamailio WS", "lc rgb '#d62728' pt 7 dt 1"},
		{"kamailio", "tcp", "Kamailio TCP", "lc rgb '#d62728' pt 5 dt 2"},
	}

	// Throughput against message size.
	if len(d.runs["small"])+len(d.runs["size"]) > 0 {
		var msgsData, mbData strings.Builder
		for i, s := range series {
			fmt.Fprintf(&msgsData, "$s%d << EOD\n", i)
			for _, sz := range []int{200, 2048, 8192} {
				g, c := d.sizeCell(s.t, sz)
				if st, ok := d.stats(g, c, s.relay); ok {
					fmt.Fprintf(&msgsData, "%d %g %g\n", sz, st.msgs, st.mb)
				}
			}
			for _, ch := range []struct {
				k string
				n int
			}{{"8k", 8192}, {"64k", 65536}} {
				// 1 MiB messages in chunks: MB/s only.
				if st, ok := d.stats("large", "large"+ch.k+"-"+s.t, s.relay); ok {
					fmt.Fprintf(&mbData, "%d %g\n", ch.n, st.mb)
				}
			}
			fmt.Fprintf(&msgsData, "EOD\n$l%d << EOD\n%sEOD\n", i, mbData.String())
			mbData.Reset()
		}
		var p1, p2 []string
		for i, s := range series {
			p1 = append(p1, fmt.Sprintf("$s%d using 1:2 with linespoints lw 2 ps 1.3 %s title '%s'", i, s.style, s.title))
			p2 = append(p2, fmt.Sprintf("$s%d using 1:3 with linespoints lw 2 ps 1.3 %s title '%s, 1 chunk per message'", i, s.style, s.title))
			p2 = append(p2, fmt.Sprintf("$l%d using 1:2 with points ps 2.2 %s title '%s, 1 MiB messages in chunks'", i, strings.Replace(s.style, "pt 7", "pt 6", 1), s.title))
		}
		add("throughput-size", msgsData.String()+`
set multiplot layout 1,2 title "Throughput against message size (10 pairs, window 32; medians)"
set logscale x 2
set xtics ("200 B" 200, "2 KiB" 2048, "8 KiB" 8192, "64 KiB" 65536)
set xrange [150:90000]
set grid
set key top right box opaque font ',9'
set xlabel "message size (chunk size for the 1 MiB transfers)"
set ylabel "messages/s"
set yrange [0:*]
set format y "%.0s%c"
set title "messages per second"
plot `+strings.Join(p1, ", \\\n  ")+`
set ylabel "MB/s"
set title "megabytes per second"
set key top left font ',8'
plot `+strings.Join(p2, ", \\\n  ")+`
unset multiplot
`)
	}

	// Latency percentiles.
	if len(d.runs["latency"])+len(d.runs["small"]) > 0 {
		var dat strings.Builder
		dat.WriteString("$lat << EOD\n")
		for _, c := range []struct{ g, cell, label string }{
			{"latency", "latency-ws", "WS, " + d.env["lat_rate"] + " msg/s"},
			{"latency", "latency-tcp", "TCP, " + d.env["lat_rate"] + " msg/s"},
			{"small", "small-ws", "WS, full load"},
			{"small", "small-tcp", "TCP, full load"},
		} {
			m, mok := d.stats(c.g, c.cell, "msrpd")
			k, kok := d.stats(c.g, c.cell, "kamailio")
			if !mok && !kok {
				continue
			}
			fmt.Fprintf(&dat, "\"%s\" %g %g %g %g %g %g\n", c.label, nz(m.p50), nz(k.p50), nz(m.p99), nz(k.p99), nz(m.p999), nz(k.p999))
		}
		dat.WriteString("EOD\n")
		add("latency", dat.String()+`
set title "Latency percentiles, 200-byte messages (medians of runs; lower is better)"
set style data histogram
set style histogram cluster gap 1.5
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set ylabel "latency, ms (log scale)"
set grid ytics
set key top left box opaque
set xtics nomirror
plot $lat using 2:xtic(1) title 'msrpd p50' lc rgb '#9ecae1', \
  '' using 3 title 'Kamailio p50' lc rgb '#fcbba1', \
  '' using 4 title 'msrpd p99' lc rgb '#3182bd', \
  '' using 5 title 'Kamailio p99' lc rgb '#fb6a4a', \
  '' using 6 title 'msrpd p99.9' lc rgb '#08519c', \
  '' using 7 title 'Kamailio p99.9' lc rgb '#a50f15'
`)
	}

	// Scaling.
	if len(d.runs["scaling"]) > 0 {
		var dat strings.Builder
		for i, relay := range []string{"msrpd", "kamailio"} {
			fmt.Fprintf(&dat, "$r%d << EOD\n", i)
			for _, k := range []int{1, 10, 100, 1000} {
				if st, ok := d.stats("scaling", fmt.Sprintf("scaling%d-ws", k), relay); ok {
					fmt.Fprintf(&dat, "%d %g %g\n", k, st.msgs, nz(st.p99))
				}
			}
			dat.WriteString("EOD\n")
		}
		add("scaling", dat.String()+`
set multiplot layout 1,2 title "Scaling with concurrent pairs over WebSocket (200 B, window 32 per pair; medians)"
set logscale x 10
set xrange [0.7:1500]
set grid
set key top right box opaque
set xlabel "concurrent pairs"
set ylabel "messages/s"
set yrange [0:*]
set format y "%.0s%c"
set title "throughput"
plot $r0 using 1:2 with linespoints lw 2 pt 7 lc rgb '#1f77b4' title 'msrpd', \
  $r1 using 1:2 with linespoints lw 2 pt 7 lc rgb '#d62728' title 'Kamailio'
set logscale y
set yrange [*:*]
set format y "%g"
set ylabel "p99 latency, ms (log scale)"
set title "p99 latency"
set key top left
plot $r0 using 1:3 with linespoints lw 2 pt 7 lc rgb '#1f77b4' title 'msrpd', \
  $r1 using 1:3 with linespoints lw 2 pt 7 lc rgb '#d62728' title 'Kamailio'
unset multiplot
`)
	}
	return charts, errors.Join(errs...)
}

// nz maps a missing value to one gnuplot skips.
func nz(x float64) float64 {
	if math.IsNaN(x) || x <= 0 {
		return math.NaN()
	}
	return x
}
