package store

import (
	"bytes"
	"slices"
)

// sortPending sorts p by their sorting keys' bytes (keys[key[0]:key[1]]), as bytes.Compare
// orders them, using tmp (grown as needed, returned) as scratch.
//
// It is a most-significant-byte radix sort: a batch's keys share long prefixes (a supplier's
// USCC, a contract's resource names), which a comparison sort compares again at every one of
// its n log n comparisons; here each byte of a key is looked at about once. Small buckets go
// to the comparison sort, from the depth they share. Only the order the server receives a
// block in depends on it: a block in the table's order takes the server half the work.
func sortPending(p []pending, keys []byte, tmp []pending) []pending {
	if cap(tmp) < len(p) {
		tmp = make([]pending, len(p))
	}
	radixPending(p, keys, tmp[:len(p)], 0)
	return tmp
}

// radixSmall is the bucket size under which the comparison sort is cheaper.
const radixSmall = 48

func radixPending(p []pending, keys []byte, tmp []pending, depth int) {
	for len(p) > radixSmall {
		// Bucket 0 holds the keys that end at depth (they are equal, and sort first); bucket
		// c+1 the keys whose byte at depth is c.
		var count [257]int
		for i := range p {
			count[keyByte(&p[i], keys, depth)]++
		}
		if count[0] == len(p) {
			return // all equal
		}
		var start [257]int
		one := -1 // the only non-empty bucket, if there is one
		for b, n := 0, 0; b < 257; b++ {
			start[b] = n
			n += count[b]
			if count[b] == len(p) {
				one = b
			}
		}
		if one >= 0 {
			depth++ // a shared byte: nothing moves
			continue
		}
		next := start
		for i := range p {
			b := keyByte(&p[i], keys, depth)
			tmp[next[b]] = p[i]
			next[b]++
		}
		copy(p, tmp[:len(p)])
		for b := 1; b < 257; b++ {
			if n := count[b]; n > 1 {
				lo := start[b]
				radixPending(p[lo:lo+n], keys, tmp[lo:lo+n], depth+1)
			}
		}
		return
	}
	slices.SortFunc(p, func(a, b pending) int {
		return bytes.Compare(keys[int(a.key[0])+depth:a.key[1]], keys[int(b.key[0])+depth:b.key[1]])
	})
}

// keyByte is the bucket of p's key at depth: 0 when the key has ended, else its byte plus one.
func keyByte(p *pending, keys []byte, depth int) int {
	if i := int(p.key[0]) + depth; i < int(p.key[1]) {
		return int(keys[i]) + 1
	}
	return 0
}
