package msrp

import (
	"bytes"
	"io"
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
}

func (r *loopReader) Read(p []byte) (int, error) {
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

func benchmarkBody(b *testing.B, size int) {
	chunk := bigChunk(size)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	src := &loopReader{chunk: chunk}
	rd := NewReader(src, 0)
	for b.Loop() {
		if _, err := rd.ReadHeader(); err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			piece, err := rd.NextBody(0)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n += len(piece)
		}
		if n != size {
			b.Fatalf("body of %d bytes, want %d", n, size)
		}
	}
}

func BenchmarkBody64K(b *testing.B) { benchmarkBody(b, 64<<10) }
func BenchmarkBody4M(b *testing.B)  { benchmarkBody(b, 4<<20) }
