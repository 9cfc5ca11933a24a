//go:build linux

// Command idlefloor measures what 10 000 keepalive round trips a second
// cost the kernel alone, as a floor for transport's
// BenchmarkIdleWebSocket10k: a server that does nothing but write a
// 2-byte Ping frame to each of -conns loopback TCP connections once a
// second (in -bursts bursts, as the keepalive Scheduler's ticks do) and
// read the answers with one level-triggered epoll loop and raw system
// calls — no goroutine per connection, no timers, no parsing. The clients
// run in a second process (this program re-executed) and echo a 2-byte
// Pong for every Ping.
//
//	go run ./bench/idlefloor              # 10 000 connections, 8 bursts a second
//	go run ./bench/idlefloor -bursts 1    # every connection in one burst
//
// It prints the server's CPU (user + system, from getrusage) over a 10 s
// window after a 3 s warm-up, as a percentage of one core. Linux only.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

const clientEnv = "IDLEFLOOR_CLIENT"

func main() {
	conns := flag.Int("conns", 10000, "connections")
	bursts := flag.Int("bursts", 8, "bursts a second the Pings are sent in")
	window := flag.Duration("window", 10*time.Second, "measured time")
	flag.Parse()
	if addr := os.Getenv(clientEnv); addr != "" {
		client(addr, *conns)
		return
	}
	if err := serve(*conns, *bursts, *window); err != nil {
		fmt.Fprintln(os.Stderr, "idlefloor:", err)
		os.Exit(1)
	}
}

func serve(conns, bursts int, window time.Duration) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), clientEnv+"="+l.Addr().String())
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	fds := make([]int, 0, conns)
	var keep []*os.File // a collected File would close its socket
	for len(fds) < conns {
		c, err := l.(*net.TCPListener).AcceptTCP()
		if err != nil {
			return err
		}
		f, err := c.File() // a duplicate outside the Go runtime's poller
		_ = c.Close()
		if err != nil {
			return err
		}
		keep = append(keep, f)
		fd := int(f.Fd())
		if err := syscall.SetNonblock(fd, true); err != nil {
			return err
		}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}
		if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
			return err
		}
		fds = append(fds, fd)
	}

	pongs := 0
	run := func(d time.Duration) {
		ping := []byte{0x89, 0x00}
		buf := make([]byte, 512)
		events := make([]syscall.EpollEvent, 256)
		next, part := time.Now(), 0
		for end := time.Now().Add(d); time.Now().Before(end); {
			if !time.Now().Before(next) {
				for i := part; i < len(fds); i += bursts {
					_, _ = syscall.Write(fds[i], ping)
				}
				part = (part + 1) % bursts
				next = next.Add(time.Second / time.Duration(bursts))
			}
			wait := max(int(time.Until(next)/time.Millisecond), 0)
			n, err := syscall.EpollWait(ep, events, wait)
			if err != nil {
				continue // EINTR
			}
			for _, ev := range events[:n] {
				if r, _ := syscall.Read(int(ev.Fd), buf); r > 0 {
					pongs += r / 2
				}
			}
		}
	}
	run(3 * time.Second)
	pongs = 0
	var r0, r1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	run(window)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	user := time.Duration(r1.Utime.Nano() - r0.Utime.Nano())
	sys := time.Duration(r1.Stime.Nano() - r0.Stime.Nano())
	fmt.Printf("%d connections, %d bursts/s: %.3f Pongs per connection and second; CPU %.2f%% of one core (user %v, system %v)\n",
		conns, bursts, float64(pongs)/window.Seconds()/float64(conns), 100*(user+sys).Seconds()/window.Seconds(), user, sys)
	for _, f := range keep {
		_ = f.Close()
	}
	return nil
}

// client opens conns connections to addr and answers every Ping with a
// Pong, until it is killed.
func client(addr string, conns int) {
	for range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "idlefloor client:", err)
			os.Exit(1)
		}
		go func() {
			b := make([]byte, 64)
			pong := []byte{0x8a, 0x00, 0x8a, 0x00, 0x8a, 0x00, 0x8a, 0x00}
			for {
				n, err := c.Read(b)
				if err != nil {
					return
				}
				_, _ = c.Write(pong[:min(n, len(pong))&^1])
			}
		}()
	}
	select {}
}
