package endpoint

import (
	"strconv"
	"testing"
)

func TestRecentIDsForgetsOldestFirst(t *testing.T) {
	var r recentIDs
	if r.has("x") {
		t.Fatal("empty set has x")
	}
	for i := 0; i < recentIDsSize+10; i++ {
		r.add(strconv.Itoa(i))
		r.add(strconv.Itoa(i)) // twice: remembered once
	}
	for i := 0; i < 10; i++ {
		if r.has(strconv.Itoa(i)) {
			t.Errorf("%d still remembered after %d newer ids", i, recentIDsSize)
		}
	}
	for i := 10; i < recentIDsSize+10; i++ {
		if !r.has(strconv.Itoa(i)) {
			t.Errorf("%d forgotten too early", i)
		}
	}
	if len(r.set) != recentIDsSize {
		t.Errorf("%d ids held, want %d", len(r.set), recentIDsSize)
	}
}
