package store

import (
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

// The batch's de-duplication keys records by their 64-bit hash; two different records with
// the same hash (forced here) must both be kept, and a repeat of either dropped.
func TestWriteStateKeepsRecordsWhoseHashesCollide(t *testing.T) {
	w := &writeState{seen: map[uint64]int32{}}
	rec := func(source, id string) *voucherwatch.Record {
		r := meteredCardHour(0)
		r.Source, r.ID = source, id
		return &r
	}
	tests := []struct {
		source, id string
		hash       uint64
		kept       bool
	}{
		{"s1", "a", 7, true},
		{"s1", "b", 7, true},  // another record, the same hash
		{"s1", "a", 7, false}, // a repeat of the first
		{"s1", "b", 7, false}, // a repeat of the collided one
		{"s2", "a", 8, true},  // the same id from another source
		{"s1", "c", 7, true},  // a third record on the hash
		{"s1", "c", 7, false},
	}
	for i, tt := range tests {
		before := len(w.pending)
		w.add(usageTable, rec(tt.source, tt.id), tt.hash)
		if kept := len(w.pending) > before; kept != tt.kept {
			t.Fatalf("record %d (%s, %s, hash %d): kept %v, want %v", i, tt.source, tt.id, tt.hash, kept, tt.kept)
		}
	}
	if len(w.pending) != 4 {
		t.Fatalf("pending %d records, want 4", len(w.pending))
	}
}
