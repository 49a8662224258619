package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortPending compares the radix sort with bytes.Compare's order on keys like a batch's:
// long shared prefixes, keys that extend others, equal keys, and buckets around the size where
// it hands over to the comparison sort.
func TestSortPending(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := map[string]func(i int) string{
		"usage-like": func(i int) string {
			return fmt.Sprintf("9143030271%08d\x00HTR59N-%05d-N%03d\x00%c", rng.IntN(25), rng.IntN(40), rng.IntN(12), rune(rng.IntN(200)))
		},
		"prefixes":  func(i int) string { return "abc"[:rng.IntN(4)] + "\x00\xff"[:rng.IntN(3)] },
		"all equal": func(i int) string { return "same key" },
		"random": func(i int) string {
			b := make([]byte, rng.IntN(6))
			for k := range b {
				b[k] = byte(rng.IntN(256))
			}
			return string(b)
		},
	}
	for name, gen := range shapes {
		for _, n := range []int{0, 1, 2, radixSmall, radixSmall + 1, 1000, 20000} {
			t.Run(fmt.Sprintf("%s/%d", name, n), func(t *testing.T) {
				var keys []byte
				var p []pending
				for i := 0; i < n; i++ {
					start := len(keys)
					keys = append(keys, gen(i)...)
					p = append(p, pending{hash: uint64(i), key: [2]uint32{uint32(start), uint32(len(keys))}})
				}
				want := slices.Clone(p)
				slices.SortStableFunc(want, func(a, b pending) int {
					return bytes.Compare(keys[a.key[0]:a.key[1]], keys[b.key[0]:b.key[1]])
				})
				sortPending(p, keys, nil)
				for i := range p {
					got, exp := keys[p[i].key[0]:p[i].key[1]], keys[want[i].key[0]:want[i].key[1]]
					if !bytes.Equal(got, exp) {
						t.Fatalf("position %d: key %q, want %q", i, got, exp)
					}
				}
				// Nothing lost or repeated.
				seen := make(map[uint64]bool, n)
				for _, x := range p {
					if seen[x.hash] {
						t.Fatalf("record %d twice", x.hash)
					}
					seen[x.hash] = true
				}
				if len(seen) != n {
					t.Fatalf("%d records, want %d", len(seen), n)
				}
			})
		}
	}
}
