package collector

import (
	"fmt"
	"testing"
	"unsafe"
)

func TestDigestOfSeparatesFields(t *testing.T) {
	if digestOf("ab", "c") == digestOf("a", "bc") {
		t.Error(`("ab", "c") and ("a", "bc") share a digest: the fields are not delimited`)
	}
	if digestOf("i-1", "") == digestOf("i-1") {
		t.Error("an empty last field is not part of the digest")
	}
	if digestOf("i-1", "SubscriptionOrder") != digestOf("i-1", "SubscriptionOrder") {
		t.Error("the same fields give different digests")
	}
	if d := digestOf("i-1"); d.hi == uint64(d.lo) {
		t.Error("the two parts are the same hash: the seeds are not independent")
	}
}

// A rowIndex answers as a map would: the last series added for a digest,
// and nothing for a digest never added, wherever it falls in the order.
func TestRowIndexAnswersAsAMap(t *testing.T) {
	var x rowIndex
	want := map[rowDigest]int{}
	for i := range 1000 {
		d := digestOf(fmt.Sprint("i-", i%700)) // 300 digests added twice
		x.add(d, i)
		want[d] = i
	}
	for d, i := range want {
		if got, ok := x.lookup(d); !ok || got != i {
			t.Fatalf("lookup(%v) = %d, %v; want %d", d, got, ok, i)
		}
	}
	x.add(digestOf("late"), 5000) // an add after a lookup sorts again
	if got, ok := x.lookup(digestOf("late")); !ok || got != 5000 {
		t.Errorf("a digest added after a lookup: %d, %v", got, ok)
	}
	for i := range 1000 {
		if _, ok := x.lookup(digestOf(fmt.Sprint("absent-", i))); ok {
			t.Fatalf("absent-%d found", i)
		}
	}
	var empty rowIndex
	if _, ok := empty.lookup(digestOf("x")); ok {
		t.Error("an empty index found a digest")
	}
}

func TestRowIndexEntryIsSixteenBytes(t *testing.T) {
	if n := unsafe.Sizeof(rowIndexEntry{}); n != 16 {
		t.Errorf("a rowIndexEntry takes %d bytes; the index of a million-row MONTHLY bill grows with it", n)
	}
}
