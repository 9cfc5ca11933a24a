package msrp

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// bench200 is a SEND of about 200 bytes, the size of a short chat line.
var bench200 = []byte("MSRP a786hjs2 SEND\r\n" +
	"To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n" +
	"From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n" +
	"Message-ID: 87652491\r\n" +
	"Byte-Range: 1-25/25\r\n" +
	"Content-Type: text/plain\r\n" +
	"\r\n" +
	"Hey Bob, are you there?\r\n" +
	"-------a786hjs2$\r\n")

func BenchmarkParse200(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(bench200)))
	for b.Loop() {
		if _, err := Parse(bench200, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// loopReader returns copies of one chunk forever, like a busy connection,
// without allocating.
type loopReader struct {
	chunk []byte
	off   int
	most  int // bytes per Read, as a socket gives them; 0 fills p
}

func (r *loopReader) Read(p []byte) (int, error) {
	if r.most > 0 && len(p) > r.most {
		p = p[:r.most]
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.chunk[r.off:])
		n += c
		r.off = (r.off + c) % len(r.chunk)
	}
	return n, nil
}

func BenchmarkReader200(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(bench200)))
	rd := NewReader(&loopReader{chunk: bench200}, 0)
	for b.Loop() {
		if _, err := rd.ReadMessage(0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendTo200(b *testing.B) {
	m, err := Parse(bench200, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(bench200)))
	buf := make([]byte, 0, 512)
	for b.Loop() {
		if buf, err = m.AppendTo(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// bigChunk returns a SEND whose body has size bytes of text with CRLFs,
// dashes and near end-lines, the worst ordinary case for the body scan.
func bigChunk(size int) []byte {
	line := []byte("lorem ipsum dolor sit amet, consectetur\r\n-------a786hjs\r\n")
	body := bytes.Repeat(line, size/len(line)+1)[:size]
	var buf bytes.Buffer
	buf.WriteString("MSRP a786hjs2 SEND\r\nTo-Path: msrp://b.example.com:1/s;tcp\r\n" +
		"From-Path: msrp://a.example.com:2/s;tcp\r\nContent-Type: text/plain\r\n\r\n")
	buf.Write(body)
	buf.WriteString("\r\n-------a786hjs2$\r\n")
	return buf.Bytes()
}

// randomChunk returns a SEND with a body of size random bytes: a file
// transfer, where the end-line's CR turns up every 256 bytes or so.
func randomChunk(size int) []byte {
	body := make([]byte, size)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range body {
		body[i] = byte(rng.Uint32())
	}
	var buf bytes.Buffer
	buf.WriteString("MSRP a786hjs2 SEND\r\nTo-Path: msrp://b.example.com:1/s;tcp\r\n" +
		"From-Path: msrp://a.example.com:2/s;tcp\r\nContent-Type: application/octet-stream\r\n\r\n")
	buf.Write(body)
	buf.WriteString("\r\n-------a786hjs2$\r\n")
	return buf.Bytes()
}

func benchmarkBody(b *testing.B, size int) { benchmarkChunk(b, bigChunk(size), size, false, 0) }

func benchmarkChunk(b *testing.B, chunk []byte, size int, pieces bool, readSize int) {
	b.ReportAllocs()
	b.SetBytes(int64(size))
	src := &loopReader{chunk: chunk, most: readSize}
	rd := NewReader(src, 0)
	for b.Loop() {
		if _, err := rd.ReadHeader(); err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			var piece []byte
			var last bool
			var err error
			if pieces {
				piece, last, err = rd.NextPiece(64 << 10)
			} else {
				piece, err = rd.NextBody(0)
				last = err == io.EOF
			}
			if err != nil && err != io.EOF {
				b.Fatal(err)
			}
			n += len(piece)
			if last {
				break
			}
		}
		if n != size {
			b.Fatalf("body of %d bytes, want %d", n, size)
		}
	}
}

func BenchmarkBody64K(b *testing.B) { benchmarkBody(b, 64<<10) }
func BenchmarkBody4M(b *testing.B)  { benchmarkBody(b, 4<<20) }

// The relay's path: 64 KiB chunks of random bytes taken with NextPiece.
func BenchmarkPieceRandom64K(b *testing.B) {
	benchmarkChunk(b, randomChunk(64<<10), 64<<10, true, 0)
}

// The same, read 16 KiB at a time as from a loopback socket.
func BenchmarkPieceRandom64KReads16K(b *testing.B) {
	benchmarkChunk(b, randomChunk(64<<10), 64<<10, true, 16<<10)
}
