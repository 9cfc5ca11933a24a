package msrp

import (
	"errors"
	"reflect"
	"regexp"
	"testing"
)

func sendMessage(body []byte) *Message {
	return &Message{
		TransactionID: "abcd1234",
		Method:        MethodSEND,
		Headers: []Header{
			{HeaderToPath, "msrp://bob.example.com:8888/9di4eae923wzd;tcp"},
			{HeaderFromPath, "msrp://alice.example.com:7777/iau39soe2843z;tcp"},
			{HeaderContentType, "text/plain"},
		},
		Body: body,
	}
}

// TestWriterRefuses lists messages the Writer must not put on the wire.
func TestWriterRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(m *Message)
		want error
	}{
		{"own end-line", func(m *Message) { m.Body = []byte("x\r\n-------abcd1234$\r\ny") }, ErrEndLineInBody},
		{"own end-line +", func(m *Message) { m.Body = []byte("x\r\n-------abcd1234+") }, ErrEndLineInBody},
		{"own end-line at start", func(m *Message) { m.Body = []byte("-------abcd1234#") }, ErrEndLineInBody},
		{"own end-line without CRLF", func(m *Message) { m.Body = []byte("x-------abcd1234$") }, ErrEndLineInBody},
		{"no transaction id", func(m *Message) { m.TransactionID = "" }, errNoTransactionID},
		{"bad transaction id", func(m *Message) { m.TransactionID = "ab cd" }, errNoTransactionID},
		{"bad method", func(m *Message) { m.Method = "SE ND" }, errNoMethod},
		{"status out of range", func(m *Message) { m.Method, m.StatusCode = "", 99 }, errBadStatus},
		{"bad flag", func(m *Message) { m.Flag = '!' }, errBadFlag},
		{"CRLF in value", func(m *Message) { m.Headers[2].Value = "text/plain\r\nX: y" }, errBadHeaderValue},
		{"NUL in value", func(m *Message) { m.Headers[2].Value = "a\x00b" }, errBadHeaderValue},
		{"CR in comment", func(m *Message) { m.Method, m.StatusCode, m.Comment = "", 200, "O\rK" }, errBadHeaderValue},
		{"bad header name", func(m *Message) { m.Headers[2].Name = "Content Type" }, errBadHeaderName},
		{"header name like an end-line", func(m *Message) { m.Headers[2].Name = "-------abcd1234+" }, errBadHeaderName},
		{"bodiless with Content-Type", func(m *Message) { m.Body = nil }, errContentTypeNoBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := sendMessage([]byte("hello"))
			tc.edit(m)
			out, err := m.AppendTo([]byte("keep"))
			if !errors.Is(err, tc.want) || string(out) != "keep" {
				t.Errorf("AppendTo = %q, %v; want %v and dst untouched", out, err, tc.want)
			}
		})
	}
}

// TestWriterAccepts lists bodies that look like end-lines but are not.
func TestWriterAccepts(t *testing.T) {
	for _, body := range []string{
		"",
		"\r\n",
		"-------abcd1234",
		"x\r\n-------abcd1234\r\n",
		"x\r\n-------abcd1234X",
		"x\r\n-------abcd123$",
		"x\r\n-------other$",
		"\r\n-------abcd1234 $",
	} {
		m := sendMessage([]byte(body))
		out, err := m.AppendTo(nil)
		if err != nil {
			t.Errorf("AppendTo(body %q) = %v", body, err)
			continue
		}
		back, err := Parse(out, 0)
		if err != nil || string(back.Body) != body {
			t.Errorf("body %q came back as %q, %v", body, back.Body, err)
		}
	}
}

func TestResponse(t *testing.T) {
	to := "msrp://relay.example.com:2855/r1;tcp msrp://bob.example.com:8888/b;tcp"
	from := "msrp://alice.example.com:7777/a;tcp msrp://x.example.com:1/x;tcp"
	for _, tc := range []struct {
		method, wantTo, wantFrom string
	}{
		// SEND responses are hop-by-hop: only the previous hop.
		{MethodSEND, "msrp://alice.example.com:7777/a;tcp", "msrp://relay.example.com:2855/r1;tcp"},
		// Other responses go back along the whole path.
		{MethodAUTH, from, "msrp://relay.example.com:2855/r1;tcp"},
		{"NICKNAME", from, "msrp://relay.example.com:2855/r1;tcp"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			req := &Message{TransactionID: "t1234567", Method: tc.method,
				Headers: []Header{{HeaderToPath, to}, {HeaderFromPath, from}}, Flag: FlagMore}
			resp := req.Response(200, "OK")
			want := &Message{TransactionID: "t1234567", StatusCode: 200, Comment: "OK",
				Headers: []Header{{HeaderToPath, tc.wantTo}, {HeaderFromPath, tc.wantFrom}}, Flag: FlagComplete}
			if !reflect.DeepEqual(resp, want) {
				t.Errorf("Response = %+v, want %+v", resp, want)
			}
			if resp.IsRequest() || !req.IsRequest() {
				t.Errorf("IsRequest wrong")
			}
		})
	}
}

var identRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.\-+%=]{3,31}$`)

func TestNewTransactionID(t *testing.T) {
	seen := make(map[string]bool, 100000)
	for i := 0; i < 100000; i++ {
		id := NewTransactionID()
		// 16 base-32 characters are 80 bits, above the 64 RFC 4975 asks.
		if len(id) != 16 || !identRE.MatchString(id) {
			t.Fatalf("NewTransactionID() = %q, not a 16-character transact-id", id)
		}
		if seen[id] {
			t.Fatalf("NewTransactionID() repeated %q after %d ids", id, i)
		}
		seen[id] = true
	}
}

func TestNewMessageIDAndSessionID(t *testing.T) {
	seen := make(map[string]bool)
	for i := 0; i < 10000; i++ {
		id := NewMessageID()
		if !identRE.MatchString(id) || seen[id] {
			t.Fatalf("NewMessageID() = %q (repeat %v)", id, seen[id])
		}
		seen[id] = true
		s := NewSessionID()
		if len(s) < 20 || !allOf(s, isSessionIDChar) || seen[s] {
			t.Fatalf("NewSessionID() = %q", s)
		}
		seen[s] = true
	}
}

func TestHeaderAccessors(t *testing.T) {
	m := &Message{TransactionID: "t1234567", StatusCode: 423, Headers: []Header{
		{HeaderToPath, "msrps://a.example.com:9892/98cjs;tcp"},
		{"from-path", "msrps://alice@intra.example.com;tcp"},
		{HeaderMinExpires, "600"},
		{HeaderMaxExpires, "x"},
		{HeaderStatus, "000 200 OK"},
	}}
	if v := m.Header("FROM-PATH"); v != "msrps://alice@intra.example.com;tcp" {
		t.Errorf("Header(FROM-PATH) = %q", v)
	}
	if n, ok, err := m.MinExpires(); n != 600 || !ok || err != nil {
		t.Errorf("MinExpires = %d %v %v", n, ok, err)
	}
	if _, ok, err := m.MaxExpires(); !ok || err == nil {
		t.Errorf("MaxExpires of %q: ok %v err %v", "x", ok, err)
	}
	if _, ok, _ := m.Expires(); ok {
		t.Errorf("Expires present")
	}
	if st, err := m.Status(); err != nil || st.Code != 200 {
		t.Errorf("Status = %v, %v", st, err)
	}
	if m.SuccessReport() != "no" || m.FailureReport() != "yes" {
		t.Errorf("report defaults %q %q", m.SuccessReport(), m.FailureReport())
	}
	m.SetHeader(HeaderExpires, "900")
	m.DelHeader(HeaderMaxExpires)
	if n, _, _ := m.Expires(); n != 900 || m.Header(HeaderMaxExpires) != "" {
		t.Errorf("SetHeader/DelHeader failed: %+v", m.Headers)
	}
	c := m.Clone()
	c.Headers[0].Value = "changed"
	if m.Headers[0].Value == "changed" {
		t.Errorf("Clone shares headers")
	}
}
