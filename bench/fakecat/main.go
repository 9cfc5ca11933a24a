// Command fakecat stands in for `msrpcat bench` while testing the benchmark
// harness: it takes the same flags, sleeps a moment and prints one JSON
// result with made-up but plausible numbers. Never use its output as a
// measurement; bench/run.sh marks results made with it as fake.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "bench" {
		fmt.Fprintln(os.Stderr, "usage: fakecat bench [msrpcat bench flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	relay := fs.String("relay", "", "")
	fs.String("user", "", "")
	fs.String("user2", "", "")
	pairs := fs.Int("pairs", 1, "")
	messages := fs.Int("messages", 1000, "")
	size := fs.Int("size", 200, "")
	chunk := fs.Int("chunk", 2048, "")
	window := fs.Int("window", 32, "")
	rate := fs.Float64("rate", 0, "")
	dur := fs.Duration("duration", 0, "")
	fs.Bool("json", false, "")
	_ = fs.Parse(os.Args[2:])

	d := *dur
	if d == 0 || d > 300*time.Millisecond {
		d = 300 * time.Millisecond
	}
	time.Sleep(d)
	transport := "tcp"
	if strings.HasPrefix(*relay, "ws") {
		transport = "ws"
	}
	j := 1 + 0.1*rand.Float64()
	mps := 60000 * j / (1 + float64(*size)/4096)
	if *rate > 0 && *rate < mps {
		mps = *rate
	}
	p50 := 0.3 * j * (1 + float64(*pairs)/100)
	out := map[string]any{
		"relay": *relay, "transport": transport, "pairs": *pairs,
		"messages": *messages, "size": *size, "chunk": *chunk, "window": *window,
		"seconds": d.Seconds(), "msgs_per_sec": mps,
		"mb_per_sec": mps * float64(*size) / 1e6,
		"p50_ms":     p50, "p99_ms": p50 * 4, "p999_ms": p50 * 9,
		"lost": 0, "corrupted": 0, "errors": 0,
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}
