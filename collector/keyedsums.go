package collector

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"math"
	"slices"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// keyedSums sums bill rows into series as aggregate does, but holds each
// series as its key and amounts only, and makes label slices just for the
// series a cap keeps. The ossbucket collector's sums hold every bucket of a
// day or of a cycle, 330,000 and more on the biggest simulated account, so
// both halves are packed: the keys back to back in a keyTable, the amounts
// in 4-byte slots of an amountTable. A bucket of a cycle and a day takes
// about 150 bytes rather than the 300 of a map of strings to Amounts, and
// nothing is copied as they grow.
type keyedSums struct {
	keys  *keyTable // shared with the views over() makes
	sums  *amountTable
	width int // label values per key
	key   []byte
}

func newKeyedSums(width int) *keyedSums {
	return &keyedSums{keys: newKeyTable(), sums: &amountTable{}, width: width}
}

// len is how many series have a key, some of them zero.
func (s *keyedSums) len() int { return s.keys.len() }

// add sums amounts into the series with these label values and returns its
// position.
func (s *keyedSums) add(labels []string, amounts bssclient.Amounts) (int, error) {
	s.key = appendKey(s.key[:0], labels)
	i := s.keys.put(s.key)
	return i, s.sums.add(i, amounts)
}

// subtractAt subtracts amounts from the series at position i.
func (s *keyedSums) subtractAt(i int, amounts bssclient.Amounts) error {
	return s.sums.add(i, negate(amounts))
}

// over is a view of the same keys with other amounts, by position (a zero
// one is no series).
func (s *keyedSums) over(amounts *amountTable) *keyedSums {
	return &keyedSums{keys: s.keys, sums: amounts, width: s.width}
}

func (s *keyedSums) seriesAt(i int) series {
	return series{labels: splitKey(string(s.keys.key(i)), s.width), amounts: s.sums.get(i)}
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
		return compareKeys(s.keys.key(int(i)), s.keys.key(int(j)))
	})
	return keepRanked(order, maxSeries, func(i int32) series { return s.seriesAt(int(i)) }, overflowOf)
}

// compareKeys orders two keys of the same width as slices.Compare orders
// their label values.
func compareKeys(a, b []byte) int {
	for len(a) > 0 && len(b) > 0 {
		i, j := bytes.IndexByte(a, 0xff), bytes.IndexByte(b, 0xff)
		if c := bytes.Compare(a[:i], b[:j]); c != 0 {
			return c
		}
		a, b = a[i+1:], b[j+1:]
	}
	return cmp.Compare(len(a), len(b))
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

// amountTable holds Amounts by position in ten 4-byte slots, one per
// column, exactly. A slot holds a sum that is a whole number of 0.0001
// currency units within ±214,748 units, the precision the bills' amounts
// have been seen with; any other sum is kept whole in wide, and its slot
// says so. Were the bills finer, more sums would be wide: memory would
// grow, the sums would stay exact.
type amountTable struct {
	slots paged[[amountColumns]int32]
	wide  map[uint32]int64 // position×amountColumns+column → units
}

const (
	amountColumns = 10
	slotUnit      = 10_000        // units of 10^-8 a slot counts in
	slotWide      = math.MinInt32 // the sum is in wide
)

// amountFields are a's columns, in the slots' order.
func amountFields(a *bssclient.Amounts) [amountColumns]*bssclient.Money {
	return [amountColumns]*bssclient.Money{&a.PretaxGrossAmount, &a.InvoiceDiscount, &a.DeductedByCoupons,
		&a.DeductedByCashCoupons, &a.DeductedByPrepaidCard, &a.PretaxAmount, &a.CashAmount, &a.PaymentAmount,
		&a.OutstandingAmount, &a.AdjustAmount}
}

const payableSlot = 5 // PretaxAmount in amountFields

// get returns the amounts at position i; zero past the last one added.
func (t *amountTable) get(i int) bssclient.Amounts {
	var a bssclient.Amounts
	if i >= t.slots.len() {
		return a
	}
	slots := t.slots.at(i)
	for c, f := range amountFields(&a) {
		*f = bssclient.MoneyFromUnits(t.units(i, c, slots[c]))
	}
	return a
}

func (t *amountTable) units(i, c int, slot int32) int64 {
	if slot == slotWide {
		return t.wide[uint32(i*amountColumns+c)]
	}
	return int64(slot) * slotUnit
}

// payable is the PretaxAmount at position i, in units.
func (t *amountTable) payable(i int) int64 {
	if i >= t.slots.len() {
		return 0
	}
	return t.units(i, payableSlot, t.slots.at(i)[payableSlot])
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
	for c, f := range amountFields(&sum) {
		at := uint32(i*amountColumns + c)
		if slots[c] == slotWide {
			delete(t.wide, at)
		}
		u := f.Units()
		if q := u / slotUnit; u%slotUnit == 0 && q > math.MinInt32 && q <= math.MaxInt32 {
			slots[c] = int32(q)
			continue
		}
		if t.wide == nil {
			t.wide = map[uint32]int64{}
		}
		slots[c], t.wide[at] = slotWide, u
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
