package bsssim

import (
	"strconv"
	"strings"
)

// Instance i of the world is global index g = owner·InstancesPerOwner + j.
// Everything about it is a pure function of (seed, g): econ holds what
// amounts and filters need, attrs the display strings, built only for rows
// that are returned.

// Hash purposes: each draw hashes the seed, a purpose tag and up to three
// coordinates, so draws for different purposes never correlate.
const (
	tagOwnerID uint64 = iota + 1
	tagOwnerCredit
	tagPattern
	tagInstance
	tagInstanceName
	tagAmount
	tagRestate
	tagFeistelInstance
	tagFeistelBucket
	tagBucket
	tagItems
	tagSubscription
	tagBalance
	tagExtraSpend
)

// mix64 is the splitmix64 finaliser: a fast bijective 64-bit mixer.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (w *World) hash(tag, a, b, c uint64) uint64 {
	x := mix64(w.seedKey ^ tag*0x2545f4914f6cdd1d)
	x = mix64(x ^ a)
	x = mix64(x ^ b)
	return mix64(x ^ c)
}

// econ is an instance as amounts and filters see it.
type econ struct {
	g, owner, j int
	slot        slot
	cls         *class
	region      int   // index into regions
	spec        int   // index into cls.product.specs
	env         int   // index into envs
	level       int64 // units: typical daily gross (pay-as-you-go) or monthly order (subscription)
	res         int64 // units: the amounts' quantum, 0.01 or 0.0001
	discount    int64 // permille of gross given as InvoiceDiscount
}

func (w *World) econAt(g int) econ {
	ipo := w.cfg.InstancesPerOwner
	e := econ{g: g, owner: g / ipo, j: g % ipo}
	e.slot = w.patterns[e.owner][e.j%slotsPerOwner]
	e.cls = &classes[e.slot.cls]
	p := e.cls.product
	h := w.hash(tagInstance, uint64(g), 0, 0)

	pick := int(h % uint64(w.regionTotal))
	for e.region = 0; pick >= w.regionWeight(&regions[e.region]); e.region++ {
		pick -= w.regionWeight(&regions[e.region])
	}
	e.spec = int((h >> 16) % uint64(len(p.specs)))
	e.env = int((h >> 24) % uint64(len(envs)))

	// Level: the spec's list price, ±20 % per instance, in the world's currency.
	cents := p.specs[e.spec].dailyCents * int64(800+(h>>32)%450) / 1000
	if e.cls.sub {
		cents = cents * 30 * subscriptionMonthPermille / 1000
	}
	cents = cents * w.currency.num / w.currency.den
	e.res = 1_000_000 // 0.01
	if !e.cls.sub && (h>>44)%10 < 4 {
		e.res = 10_000 // usage-metered products often bill to 0.0001
	}
	e.level = max(cents*1_000_000/e.res*e.res, minGrossUnits)
	e.discount = [...]int64{0, 0, 50, 100, 150}[(h>>52)%5]
	if e.cls.sub {
		e.discount = [...]int64{100, 150, 200, 300}[(h>>52)%4]
	}
	return e
}

// subscriptionMonthPermille: a month prepaid costs this share of thirty
// pay-as-you-go days.
const subscriptionMonthPermille = 800

// minGrossUnits is the smallest gross a non-zero row bills: 0.05.
const minGrossUnits = 5_000_000

func (w *World) regionWeight(r *region) int {
	if w.currency.code == "CNY" {
		return r.weight
	}
	return r.intl
}

// attrs are an instance's display strings.
type attrs struct {
	id, nick, zone, internetIP, intranetIP, resourceGroup, costUnit, tag string
}

func (w *World) attrsOf(e *econ) attrs {
	p := e.cls.product
	r := &regions[e.region]
	o := &w.owners[e.owner]
	h := w.hash(tagInstanceName, uint64(e.g), 0, 0)
	env := envs[e.env]
	a := attrs{id: w.instanceID(e)}

	n := int((h >> 8) % 100) // two digits
	a.nick = o.team + "-" + p.roles[h%uint64(len(p.roles))] + "-" + env + "-" + strconv.Itoa(n/10) + strconv.Itoa(n%10)

	if p.hasZone {
		a.zone = r.zones[(h>>16)%uint64(len(r.zones))]
		a.intranetIP = privateNetworks[(h>>20)%uint64(len(privateNetworks))] +
			strconv.Itoa(int((h>>24)%256)) + "." + strconv.Itoa(int(1+(h>>32)%253))
	}
	if p.hasPublicIP && (h>>40)%10 < 6 {
		a.internetIP = strconv.Itoa(r.ipFirst[(h>>44)%uint64(len(r.ipFirst))]) + "." +
			strconv.Itoa(int(16+(h>>48)%200)) + "." + strconv.Itoa(int((h>>56)%256)) + "." +
			strconv.Itoa(int(1+(h>>4)%253))
	}
	a.resourceGroup, a.costUnit = o.team+"-"+env, o.team
	if (h>>12)%20 < 7 {
		a.resourceGroup = defaultRG
	}
	if (h>>28)%10 < 3 {
		a.costUnit = notAllocated
	}
	if (h>>36)%10 != 0 { // one instance in ten is untagged
		a.tag = "key:env value:" + env + "; key:team value:" + o.team
	}
	return a
}

// Resource IDs encode the instance's index reversibly, so an InstanceID or
// SplitItemID filter finds its instance without a scan: prefix, region code,
// seven base-36 characters of a keyed 32-bit permutation of g, and ten
// characters of hash that only make the ID look real.
const (
	idCodeLen   = 3
	idIndexLen  = 7
	idFillerLen = 10
	idSpread    = 18 // 18·2^32 < 36^7
)

func (w *World) instanceID(e *econ) string {
	p := e.cls.product
	buf := append(make([]byte, 0, len(p.idPrefix)+idCodeLen+idIndexLen+idFillerLen), p.idPrefix+regions[e.region].idCode...)
	// The index part is the permuted index plus a random multiple of 2^32,
	// so its leading character varies like the rest of the ID.
	h := w.hash(tagInstanceName, uint64(e.g), 1, 0)
	buf = appendPadded(buf, uint64(w.permute(uint32(e.g), tagFeistelInstance))+(h%idSpread)<<32, 36, idIndexLen)
	buf = appendPadded(buf, (h>>8)%3656158440062976, 36, idFillerLen) // 36^10
	return string(buf)
}

// instanceByID returns the global index of the instance with this ID.
func (w *World) instanceByID(id string) (int, bool) {
	for _, p := range products {
		if !strings.HasPrefix(id, p.idPrefix) {
			continue
		}
		rest := id[len(p.idPrefix):]
		if len(rest) != idCodeLen+idIndexLen+idFillerLen {
			continue
		}
		v, err := strconv.ParseUint(rest[idCodeLen:idCodeLen+idIndexLen], 36, 64)
		if err != nil || v>>32 >= idSpread {
			continue
		}
		g := int(w.unpermute(uint32(v), tagFeistelInstance))
		if g >= w.instances {
			continue
		}
		e := w.econAt(g)
		if w.instanceID(&e) == id {
			return g, true
		}
	}
	return 0, false
}

// bucketName names bucket b of an OSS instance: "prod-logs-3f2a91c0".
func (w *World) bucketName(e *econ, b int) string {
	n := uint64(e.g)*uint64(w.cfg.BucketsPerOSSInstance) + uint64(b)
	h := w.hash(tagBucket, n, 0, 0)
	env := envs[e.env]
	if h%4 == 0 {
		env = envs[(h>>4)%uint64(len(envs))]
	}
	buf := append(make([]byte, 0, 32), env+"-"+bucketPurposes[(h>>8)%uint64(len(bucketPurposes))]+"-"...)
	return string(appendPadded(buf, uint64(w.permute(uint32(n), tagFeistelBucket)), 16, 8))
}

// bucketByName returns the instance and bucket index a bucket name denotes.
func (w *World) bucketByName(name string) (g, b int, ok bool) {
	if len(name) < 9 || name[len(name)-9] != '-' {
		return 0, 0, false
	}
	v, err := strconv.ParseUint(name[len(name)-8:], 16, 32)
	if err != nil {
		return 0, 0, false
	}
	n := int(w.unpermute(uint32(v), tagFeistelBucket))
	g, b = n/w.cfg.BucketsPerOSSInstance, n%w.cfg.BucketsPerOSSInstance
	if g >= w.instances {
		return 0, 0, false
	}
	e := w.econAt(g)
	if e.cls.product != productOSS || w.bucketName(&e, b) != name {
		return 0, 0, false
	}
	return g, b, true
}

// permute is a keyed bijection on 32 bits (a four-round Feistel network).
func (w *World) permute(v uint32, tag uint64) uint32 {
	l, r := uint16(v>>16), uint16(v)
	for round := uint64(0); round < 4; round++ {
		l, r = r, l^uint16(w.hash(tag, round, uint64(r), 0))
	}
	return uint32(l)<<16 | uint32(r)
}

func (w *World) unpermute(v uint32, tag uint64) uint32 {
	l, r := uint16(v>>16), uint16(v)
	for round := 4; round > 0; round-- {
		l, r = r^uint16(w.hash(tag, uint64(round-1), uint64(l), 0)), l
	}
	return uint32(l)<<16 | uint32(r)
}

// appendPadded appends v in base (lower-case digits), zero-padded to width.
func appendPadded(buf []byte, v uint64, base, width int) []byte {
	var tmp [16]byte
	s := strconv.AppendUint(tmp[:0], v, base)
	for i := len(s); i < width; i++ {
		buf = append(buf, '0')
	}
	return append(buf, s...)
}
