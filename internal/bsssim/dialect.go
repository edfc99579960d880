package bsssim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"time"
)

// Dialect is how the server writes the values of an answer's Data, within
// what BSS's reference pages and their examples show: the World decides the
// values, the dialect only their representation, so every number a client
// reads must be the same in every dialect. The dialects are the simulator's
// own reading of the documentation examples, kept apart from the client's.
type Dialect string

const (
	// DialectDocumented writes every value as the API reference's types
	// declare: amounts as JSON numbers, times in RFC 3339, every field filled.
	DialectDocumented Dialect = "documented"
	// DialectStrings writes every number in Data as a JSON string of the
	// same text, as DescribeResourceUsageTotal's example does.
	DialectStrings Dialect = "strings"
	// DialectLocalTimes writes RFC 3339 times as "2006-01-02 15:04:05" in
	// UTC+8, as the Chinese reference pages' examples do.
	DialectLocalTimes Dialect = "local-times"
	// DialectSparse leaves informational fields (informationalKeys) empty,
	// null or out, varying by field and row.
	DialectSparse Dialect = "sparse"
	// DialectMasked masks ids that are no key (maskedKeys) as the examples
	// do: "185****489".
	DialectMasked Dialect = "masked"
	// DialectMixed picks, for each answer, a subset of the others from the
	// answer's RequestId, so that a long run meets every combination.
	DialectMixed Dialect = "mixed"
)

// Dialects lists the dialects, for flags and errors.
var Dialects = []Dialect{DialectDocumented, DialectStrings, DialectLocalTimes, DialectSparse, DialectMasked, DialectMixed}

// ParseDialect reads a dialect name; "" is DialectDocumented.
func ParseDialect(s string) (Dialect, error) {
	if s == "" {
		return DialectDocumented, nil
	}
	d := Dialect(s)
	if !slices.Contains(Dialects, d) {
		names := make([]string, len(Dialects))
		for i, d := range Dialects {
			names[i] = string(d)
		}
		return "", fmt.Errorf("dialect %q is not one of %s", s, strings.Join(names, ", "))
	}
	return d, nil
}

// informationalKeys are the Data fields no published figure depends on:
// names, descriptions and instance attributes shown for information. The
// reference pages' examples leave such fields empty, and SDKs declare them
// optional.
var informationalKeys = map[string]bool{
	"AccountName": true, "BillAccountName": true, "NickName": true,
	"ProductDetail": true, "InstanceSpec": true, "InstanceConfig": true, "InternetIP": true, "IntranetIP": true,
	"BizType": true, "ServicePeriod": true, "ServicePeriodUnit": true, "SplitAccountName": true,
	"Description": true, "Remark": true, "ApplicableScenarios": true, "ApplicableProducts": true,
	"SubscribeTime": true, "Seller": true, "AllocationStatus": true, "BillingType": true, "HostId": true,
}

// maskedKeys are ids that are no key of any published series; the
// reference examples mask them ("185xxxx3489", "12**122").
var maskedKeys = map[string]bool{"BillAccountID": true, "SplitAccountID": true}

// dialectParts are the transformations a dialect applies.
type dialectParts struct{ strings, localTimes, sparse, masked bool }

func (d Dialect) parts(requestID string) dialectParts {
	switch d {
	case DialectStrings:
		return dialectParts{strings: true}
	case DialectLocalTimes:
		return dialectParts{localTimes: true}
	case DialectSparse:
		return dialectParts{sparse: true}
	case DialectMasked:
		return dialectParts{masked: true}
	case DialectMixed:
		h := fnv.New32a()
		h.Write([]byte(requestID))
		b := h.Sum32()
		return dialectParts{strings: b&1 != 0, localTimes: b&2 != 0, sparse: b&4 != 0, masked: b&8 != 0}
	}
	return dialectParts{}
}

// rewrite returns body (a success answer) with its Data written in d.
func (d Dialect) rewrite(body []byte, requestID string) ([]byte, error) {
	p := d.parts(requestID)
	if p == (dialectParts{}) {
		return body, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var answer map[string]any
	if err := dec.Decode(&answer); err != nil {
		return nil, err
	}
	h := fnv.New64a()
	h.Write([]byte(requestID))
	r := rewriter{parts: p, seed: h.Sum64()}
	answer["Data"] = r.value("", answer["Data"])
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(answer); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

type rewriter struct {
	parts dialectParts
	seed  uint64
	n     uint64 // fields seen: varies the sparse choice by field and row
}

func (r *rewriter) value(key string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		// In key order: the sparse choice counts fields, and the same
		// answer must be written the same way each time it is asked for.
		for _, k := range slices.Sorted(maps.Keys(x)) {
			e := x[k]
			if r.parts.sparse && informationalKeys[k] {
				r.n++
				switch (r.seed + r.n*0x9e3779b97f4a7c15) >> 61 % 3 {
				case 0:
					x[k] = ""
				case 1:
					x[k] = nil
				default:
					delete(x, k)
				}
				continue
			}
			x[k] = r.value(k, e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = r.value(key, e)
		}
		return x
	case json.Number:
		if r.parts.strings {
			return x.String()
		}
		return x
	case string:
		if r.parts.masked && maskedKeys[key] && len(x) > 6 {
			return x[:3] + "****" + x[len(x)-3:]
		}
		if r.parts.localTimes {
			if t, err := time.Parse(time.RFC3339, x); err == nil && strings.ContainsAny(x, "T") {
				return t.In(billingZone).Format("2006-01-02 15:04:05")
			}
		}
		return x
	}
	return v
}
