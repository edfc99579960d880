package collector

import "hash/maphash"

// rowDigest stands for a bill row's key fields in the maps the cycle reads
// hold while they subtract unsettled days from a MONTHLY bill: one entry per
// row of the cycle, a million and more on the biggest accounts. Sixteen
// bytes a row instead of the decoded strings keep those maps a few tens of
// MiB rather than hundreds.
//
// It is two independent 64-bit hashes. Two different keys share a digest
// with probability about n²/2¹²⁹: 10⁻²⁷ for a million rows, far below the
// rate at which the machine's memory flips a bit.
type rowDigest [2]uint64

// rowDigestSeeds are per process: a digest is never stored or compared
// across processes.
var rowDigestSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// digestOf returns the digest of fields. Each field is ended by a byte that
// is not valid UTF-8, so ("ab", "c") and ("a", "bc") differ.
func digestOf(fields ...string) rowDigest {
	var d rowDigest
	var h maphash.Hash
	for i, seed := range rowDigestSeeds {
		h.SetSeed(seed)
		for _, f := range fields {
			h.WriteString(f)
			h.WriteByte(0xff)
		}
		d[i] = h.Sum64()
	}
	return d
}
