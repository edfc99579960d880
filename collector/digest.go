package collector

import (
	"cmp"
	"hash/maphash"
	"slices"
)

// rowDigest stands for a bill row's key fields in the indexes the cycle
// reads hold while they subtract unsettled days from a MONTHLY bill: one
// entry per row of the cycle, a million and more on the biggest accounts.
//
// It is 96 bits of two independent hashes. Two different keys share a
// digest with probability about n²/2⁹⁷: 10⁻¹⁷ for a million rows, far below
// the rate at which the machine's memory flips a bit.
type rowDigest struct {
	hi uint64
	lo uint32
}

// rowDigestSeeds are per process: a digest is never stored or compared
// across processes.
var rowDigestSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// digestOf returns the digest of fields. Each field is ended by a byte that
// is not valid UTF-8, so ("ab", "c") and ("a", "bc") differ.
func digestOf(fields ...string) rowDigest {
	var sums [2]uint64
	var h maphash.Hash
	for i, seed := range rowDigestSeeds {
		h.SetSeed(seed)
		for _, f := range fields {
			h.WriteString(f)
			h.WriteByte(0xff)
		}
		sums[i] = h.Sum64()
	}
	return rowDigest{hi: sums[0], lo: uint32(sums[1])}
}

func (d rowDigest) compare(e rowDigest) int {
	return cmp.Or(cmp.Compare(d.hi, e.hi), cmp.Compare(d.lo, e.lo))
}

// rowIndex maps row digests to series indexes: a slice sorted once for
// binary search, 16 bytes a row, where a map would take about 40.
type rowIndex struct {
	entries []rowIndexEntry
	sorted  bool
}

// rowIndexEntry is a digest's fields and a series, flat: 16 bytes, where a
// rowDigest field would be padded to 16 on its own.
type rowIndexEntry struct {
	hi         uint64
	lo, series uint32
}

func (e rowIndexEntry) digest() rowDigest { return rowDigest{e.hi, e.lo} }

// add records that the row with digest d belongs to series i; a later add
// of the same digest wins, as a map assignment would.
func (x *rowIndex) add(d rowDigest, i int) {
	x.entries = append(x.entries, rowIndexEntry{d.hi, d.lo, uint32(i)})
	x.sorted = false
}

// lookup returns the series of the row with digest d.
func (x *rowIndex) lookup(d rowDigest) (int, bool) {
	if !x.sorted {
		// Stable, so that among equal digests the last added is last.
		slices.SortStableFunc(x.entries, func(a, b rowIndexEntry) int { return a.digest().compare(b.digest()) })
		x.sorted = true
	}
	// The first entry after d, less one: the last added of d's run.
	n, _ := slices.BinarySearchFunc(x.entries, d, func(e rowIndexEntry, d rowDigest) int {
		if e.digest().compare(d) <= 0 {
			return -1
		}
		return 1
	})
	if n == 0 || x.entries[n-1].digest() != d {
		return 0, false
	}
	return int(x.entries[n-1].series), true
}
