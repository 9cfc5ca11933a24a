package endpoint

// recentIDsSize bounds how many failed Message-IDs an Endpoint remembers:
// enough for the REPORTs still on their way for the messages that failed
// in one burst, small enough to cost nothing.
const recentIDsSize = 256

// recentIDs remembers the last recentIDsSize ids added, oldest forgotten
// first. The zero value is empty and ready. Not safe for concurrent use.
type recentIDs struct {
	ring []string
	next int
	set  map[string]struct{}
}

func (r *recentIDs) add(id string) {
	if _, ok := r.set[id]; ok {
		return
	}
	if r.set == nil {
		r.set = make(map[string]struct{}, recentIDsSize)
	}
	if len(r.ring) < recentIDsSize {
		r.ring = append(r.ring, id)
	} else {
		delete(r.set, r.ring[r.next])
		r.ring[r.next] = id
		r.next = (r.next + 1) % recentIDsSize
	}
	r.set[id] = struct{}{}
}

func (r *recentIDs) has(id string) bool {
	_, ok := r.set[id]
	return ok
}
