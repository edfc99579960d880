package collector

import "testing"

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
	if d := digestOf("i-1"); d[0] == d[1] {
		t.Error("the two halves are the same hash: the seeds are not independent")
	}
}
