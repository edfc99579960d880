package collector

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"math"
	"slices"
	"strings"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// keyedSums sums bill rows into series as aggregate does, but holds each
// series as a packed key and amounts only, and makes label slices just for
// the series a cap keeps. The ossbucket collector's sums hold every bucket
// of a month, 423,600 on the biggest simulated account, for a day and for
// the cycle. Packed, a bucket takes about 120 bytes rather than 300 as a
// map of strings to Amounts:
//   - a key names each label value but one by its number in a dictionary
//     of that label's values (owners, regions, currencies are few), and
//     holds the one that is not (the bucket) as it is;
//   - the keys lie back to back in a keyTable;
//   - the amounts take 4 bytes a column in an amountTable.
//
// Nothing is copied as the sums grow.
type keyedSums struct {
	keys  *keyTable // shared with the views over() makes
	sums  *amountTable
	width int // label values per key
	// raw is the label held as it is in a key; the others are numbered.
	raw   int
	dicts []dictionary // by label; raw's is empty
	key   []byte
}

// dictionary numbers a label's values.
type dictionary struct {
	number map[string]uint32
	values []string
}

func (d *dictionary) numberOf(v string) uint32 {
	n, ok := d.number[v]
	if !ok {
		if d.number == nil {
			d.number = map[string]uint32{}
		}
		n = uint32(len(d.values))
		d.number[v], d.values = n, append(d.values, v)
	}
	return n
}

// newKeyedSums sums series of width labels; the label at raw is the one
// with a value per series (the bucket), kept in the key as it is.
func newKeyedSums(width, raw int) *keyedSums {
	return &keyedSums{keys: newKeyTable(), sums: &amountTable{}, width: width, raw: raw, dicts: make([]dictionary, width)}
}

// len is how many series have a key, some of them zero.
func (s *keyedSums) len() int { return s.keys.len() }

// add sums amounts into the series with these label values and returns its
// position.
func (s *keyedSums) add(labels []string, amounts bssclient.Amounts) (int, error) {
	s.key = s.key[:0]
	for l, v := range labels {
		if l == s.raw {
			s.key = binary.AppendUvarint(s.key, uint64(len(v)))
			s.key = append(s.key, v...)
		} else {
			s.key = binary.AppendUvarint(s.key, uint64(s.dicts[l].numberOf(v)))
		}
	}
	i := s.keys.put(s.key)
	return i, s.sums.add(i, amounts)
}

// rawLabel reads the label held as it is from the front of a key.
func rawLabel(key []byte) (value, rest []byte) {
	n, w := binary.Uvarint(key)
	return key[w : w+int(n)], key[w+int(n):]
}

// numberedLabel reads a numbered label from the front of a key.
func numberedLabel(key []byte) (number uint32, rest []byte) {
	n, w := binary.Uvarint(key)
	return uint32(n), key[w:]
}

// subtractAt subtracts amounts from the series at position i.
func (s *keyedSums) subtractAt(i int, amounts bssclient.Amounts) error {
	return s.sums.add(i, negate(amounts))
}

// over is a view of the same keys with other amounts, by position (a zero
// one is no series).
func (s *keyedSums) over(amounts *amountTable) *keyedSums {
	view := *s
	view.sums, view.key = amounts, nil
	return &view
}

func (s *keyedSums) seriesAt(i int) series {
	labels, key := make([]string, s.width), s.keys.key(i)
	for l := range labels {
		if l == s.raw {
			var v []byte
			v, key = rawLabel(key)
			labels[l] = string(v)
		} else {
			var n uint32
			n, key = numberedLabel(key)
			labels[l] = s.dicts[l].values[n]
		}
	}
	return series{labels: labels, amounts: s.sums.get(i)}
}

// nonZero returns the positions of the series whose amounts are not all
// zero, as aggregate.sorted and take drop the others.
func (s *keyedSums) nonZero() []int32 {
	var out []int32
	for i := range s.keys.len() {
		if !s.sums.isZero(i) {
			out = append(out, int32(i))
		}
	}
	return out
}

// series returns every series whose amounts are not all zero, with labels.
func (s *keyedSums) series() []series {
	nz := s.nonZero()
	out := make([]series, len(nz))
	for j, i := range nz {
		out[j] = s.seriesAt(int(i))
	}
	return out
}

// capped is capSeries of series(): the same series in the same order,
// without making labels for the series the cap sums into overflow.
func (s *keyedSums) capped(maxSeries int, overflowOf func(series) []string) ([]series, error) {
	order := s.nonZero()
	slices.SortFunc(order, func(i, j int32) int {
		if c := cmp.Compare(s.sums.payable(int(j)), s.sums.payable(int(i))); c != 0 {
			return c
		}
		return s.compareAt(int(i), int(j))
	})
	return keepRanked(order, maxSeries, func(i int32) series { return s.seriesAt(int(i)) }, overflowOf)
}

// compareAt orders the series at i and j as slices.Compare orders their
// label values.
func (s *keyedSums) compareAt(i, j int) int {
	a, b := s.keys.key(i), s.keys.key(j)
	for l := range s.width {
		var c int
		if l == s.raw {
			var x, y []byte
			x, a = rawLabel(a)
			y, b = rawLabel(b)
			c = bytes.Compare(x, y)
		} else {
			var n, m uint32
			n, a = numberedLabel(a)
			m, b = numberedLabel(b)
			c = strings.Compare(s.dicts[l].values[n], s.dicts[l].values[m])
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// keyTable is a set of keys, each given the next position as it is first
// put. The keys lie back to back in chunks, each after its length, and an
// open-addressed table of positions finds them: per key, its bytes and
// about 10 more, where a map of strings takes about 70 more.
type keyTable struct {
	chunks [][]byte
	starts paged[uint32] // by position: chunk<<keyChunkBits | offset
	slots  []uint32      // position+1, or 0 for an empty slot; a power of two long
	seed   maphash.Seed
}

// keyChunkBits bounds a chunk at 1 MiB: 4,096 chunks, 4 GiB of keys, fit a
// uint32 start. Chunks start at 4 KiB and double, so a small table stays
// small; a longer key gets a chunk of its own.
const (
	keyChunkBits  = 20
	firstKeyChunk = 4 << 10
)

func newKeyTable() *keyTable { return &keyTable{seed: maphash.MakeSeed()} }

func (t *keyTable) len() int { return t.starts.len() }

// key returns the key at position i; it is valid as long as t.
func (t *keyTable) key(i int) []byte {
	start := *t.starts.at(i)
	chunk := t.chunks[start>>keyChunkBits][start&(1<<keyChunkBits-1):]
	n, w := binary.Uvarint(chunk)
	return chunk[w : w+int(n)]
}

// put returns the position of key, adding it if new.
func (t *keyTable) put(key []byte) int {
	if (t.len()+1)*4 > len(t.slots)*3 { // at most three quarters full
		t.rehash(max(2*len(t.slots), 1024))
	}
	mask := uint64(len(t.slots) - 1)
	for h := maphash.Bytes(t.seed, key) & mask; ; h = (h + 1) & mask {
		switch s := t.slots[h]; {
		case s == 0:
			i := t.append(key)
			t.slots[h] = uint32(i + 1)
			return i
		case bytes.Equal(t.key(int(s-1)), key):
			return int(s - 1)
		}
	}
}

func (t *keyTable) append(key []byte) int {
	need := binary.MaxVarintLen64 + len(key)
	last := len(t.chunks) - 1
	if last < 0 || cap(t.chunks[last])-len(t.chunks[last]) < need {
		size := firstKeyChunk
		if last >= 0 {
			size = min(2*cap(t.chunks[last]), 1<<keyChunkBits)
		}
		t.chunks = append(t.chunks, make([]byte, 0, max(need, size)))
		last++
	}
	c := t.chunks[last]
	start := uint32(last)<<keyChunkBits | uint32(len(c))
	c = binary.AppendUvarint(c, uint64(len(key)))
	t.chunks[last] = append(c, key...)
	return t.starts.append(start)
}

func (t *keyTable) rehash(size int) {
	t.slots = make([]uint32, size)
	mask := uint64(size - 1)
	for i := range t.len() {
		h := maphash.Bytes(t.seed, t.key(i)) & mask
		for t.slots[h] != 0 {
			h = (h + 1) & mask
		}
		t.slots[h] = uint32(i + 1)
	}
}

// amountTable holds Amounts by position, exactly, in 4 bytes a column: a
// sum within ±21.47 currency units (±2^31 units of 10^-8). That holds
// nearly every bucket's day and cycle: a bucket's spend is small, and the
// few large ones are the ones a cap keeps. A larger sum is kept whole in
// wide, and its slot says so.
type amountTable struct {
	slots paged[[amountColumns]int32]
	wide  map[uint32]int64 // position×amountColumns+column → units
}

const (
	amountColumns = bssclient.AmountColumns
	// slotWide, the smallest value a slot could hold, says the sum is in
	// wide.
	slotWide = math.MinInt32
)

const payableColumn = 5 // PretaxAmount in Amounts.Columns

// get returns the amounts at position i; zero past the last one added.
func (t *amountTable) get(i int) bssclient.Amounts {
	var a bssclient.Amounts
	if i >= t.slots.len() {
		return a
	}
	for c, f := range a.Columns() {
		*f = bssclient.MoneyFromUnits(t.units(i, c))
	}
	return a
}

func (t *amountTable) units(i, c int) int64 {
	if v := t.slots.at(i)[c]; v != slotWide {
		return int64(v)
	}
	return t.wide[uint32(i*amountColumns+c)]
}

// payable is the PretaxAmount at position i, in units.
func (t *amountTable) payable(i int) int64 {
	if i >= t.slots.len() {
		return 0
	}
	return t.units(i, payableColumn)
}

func (t *amountTable) isZero(i int) bool {
	return i >= t.slots.len() || *t.slots.at(i) == [amountColumns]int32{}
}

// add adds a to the amounts at position i, or returns ErrMoneyOverflow
// and leaves them as they were.
func (t *amountTable) add(i int, a bssclient.Amounts) error {
	if a == (bssclient.Amounts{}) {
		return nil
	}
	sum, err := t.get(i).Add(a)
	if err != nil {
		return err
	}
	t.slots.extend(i + 1)
	slots := t.slots.at(i)
	for c, f := range sum.Columns() {
		at := uint32(i*amountColumns + c)
		switch u := f.Units(); {
		case u > slotWide && u <= math.MaxInt32:
			if slots[c] == slotWide {
				delete(t.wide, at)
			}
			slots[c] = int32(u)
		default:
			if t.wide == nil {
				t.wide = map[uint32]int64{}
			}
			slots[c], t.wide[at] = slotWide, u
		}
	}
	return nil
}

// clear zeroes every amount and keeps the memory for the next ones.
func (t *amountTable) clear() {
	t.slots.clear()
	clear(t.wide)
}

// paged is a growable array that never moves what it holds: it grows by
// a page at a time, where a slice's append copies the whole and holds the
// old and the new at once.
type paged[T any] struct {
	pages [][]T
	n     int
}

const pageBits = 10 // 1,024 elements a page: 40 KiB of amounts

func (p *paged[T]) len() int { return p.n }

func (p *paged[T]) at(i int) *T { return &p.pages[i>>pageBits][i&(1<<pageBits-1)] }

// extend makes the length at least n, with zero elements.
func (p *paged[T]) extend(n int) {
	for len(p.pages)<<pageBits < n {
		p.pages = append(p.pages, make([]T, 1<<pageBits))
	}
	p.n = max(p.n, n)
}

func (p *paged[T]) append(v T) int {
	p.extend(p.n + 1)
	*p.at(p.n - 1) = v
	return p.n - 1
}

// clear zeroes every element and makes the length 0, keeping the pages.
func (p *paged[T]) clear() {
	for _, page := range p.pages {
		clear(page)
	}
	p.n = 0
}
