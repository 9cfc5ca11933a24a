// Package admin serves msrpd's session list over HTTP, for operators:
//
//	GET    /sessions       the live sessions as JSON
//	DELETE /sessions/{id}  close the connection holding session id
//
// It has no authentication of its own, like nats-server's monitoring
// port: serve it on loopback (or behind something that authenticates).
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/msrpd/msrpd/accounting"
	"github.com/msrpd/msrpd/relay"
)

// Relay is what the handler needs of a relay.Server.
type Relay interface {
	Sessions() []relay.SessionInfo
	CloseSession(ctx context.Context, id, reason string) error
}

// Session is one entry of GET /sessions: the fields of an accounting
// record so far (Time is now, Reason empty), plus what only a live
// session has.
type Session struct {
	accounting.Record
	Expires time.Time `json:"expires"`
	// Idle is how long the session carried no chunk, in seconds.
	Idle      float64   `json:"idle"`
	Keepalive Keepalive `json:"keepalive"`
}

// Keepalive is the probing state of a session's connection.
type Keepalive struct {
	Mode    string `json:"mode"` // frames, send or off
	Probing bool   `json:"probing"`
	Misses  int    `json:"misses"`
}

// List is the body of GET /sessions.
type List struct {
	Sessions []Session `json:"sessions"`
}

// closeTimeout bounds how long DELETE waits for the session to end.
const closeTimeout = 10 * time.Second

// Handler returns the handler of /sessions and /sessions/{id}.
func Handler(r Relay) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sessions", func(w http.ResponseWriter, _ *http.Request) {
		now := time.Now()
		list := List{Sessions: []Session{}}
		for _, i := range r.Sessions() {
			i.End = now
			rec := accounting.NewRecord(i)
			rec.Reason = ""
			list.Sessions = append(list.Sessions, Session{
				Record:    rec,
				Expires:   i.Expires.UTC(),
				Idle:      i.Idle.Seconds(),
				Keepalive: Keepalive{Mode: i.Keepalive.Mode, Probing: i.Keepalive.Probing, Misses: i.Keepalive.Misses},
			})
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(list)
	})
	mux.HandleFunc("DELETE /sessions/{id}", func(w http.ResponseWriter, req *http.Request) {
		reason := req.URL.Query().Get("reason")
		if reason == "" {
			reason = "closed by the operator"
		}
		ctx, cancel := context.WithTimeout(req.Context(), closeTimeout)
		defer cancel()
		switch err := r.CloseSession(ctx, req.PathValue("id"), reason); {
		case errors.Is(err, relay.ErrNoSession):
			http.Error(w, "no such session", http.StatusNotFound)
		case err != nil:
			http.Error(w, "closing: "+err.Error(), http.StatusGatewayTimeout)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	return mux
}
