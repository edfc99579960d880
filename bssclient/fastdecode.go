package bssclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// The bill pages are the exporter's hot path: a big account reads hundreds
// of thousands of instance-bill rows a day, each a JSON object of forty
// fields. encoding/json reads such a page at well under 100,000 rows a
// second on one core, and decodeResponse used to read it twice over (the
// envelope with Data as raw bytes, then Data again). fastDecodeData reads
// the envelope and Data of a bill page in one pass, without reflection per
// byte, and gives exactly what encoding/json gives or nothing:
//
//   - It handles a strict subset: a valid JSON object whose Data is an
//     object, and fields of kind string, int, Money, nested struct and
//     slice of struct. Keys match fields as encoding/json matches them
//     (exact name first, then ASCII case-insensitively); unknown keys are
//     skipped after being checked to be valid JSON.
//   - Whatever falls outside the subset (invalid JSON, an error envelope,
//     an escaped or non-ASCII key, a type mismatch, a duplicate Data) makes
//     it give up, put out back as it found it, and leave the answer to the
//     encoding/json path, which then builds the same result or error it
//     always did.
//   - Values are converted by the same code encoding/json would run:
//     Money.UnmarshalJSON on the value's bytes, strconv.ParseInt for ints,
//     and encoding/json itself for the rare string with escapes or invalid
//     UTF-8.

// fastPageTypes are the Data types decoded in one pass: the paged bills,
// where the rows are. A type the decoder cannot mirror (a field of a kind
// it does not handle) is left to encoding/json and its error kept for
// TestFastDecodeTakesEveryPageType.
var fastPageTypes, fastPageTypeErrors = func() (map[reflect.Type]*fastStruct, []error) {
	m := map[reflect.Type]*fastStruct{}
	var errs []error
	for _, t := range []reflect.Type{
		reflect.TypeFor[InstanceBillData](),
		reflect.TypeFor[QueryInstanceBillData](),
		reflect.TypeFor[SplitItemBillData](),
		reflect.TypeFor[AccountBillData](),
	} {
		st, err := newFastStruct(t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m[reflect.PointerTo(t)] = st
	}
	return m, errs
}()

type fastKind uint8

const (
	fastString fastKind = iota + 1
	fastInt
	fastMoney
	fastStructField // a nested struct
	fastRows        // a slice of structs
)

var moneyType = reflect.TypeFor[Money]()

type fastField struct {
	name  string
	index []int // as reflect.Value.FieldByIndex takes it: through embedded structs
	kind  fastKind
	elem  *fastStruct // fastStructField, fastRows
}

// fastStruct is how encoding/json sees a struct's fields, for the kinds the
// fast path handles.
type fastStruct struct {
	typ    reflect.Type
	fields []*fastField
	exact  map[string]*fastField
	folded map[string]*fastField // names upper-cased, for ASCII keys
}

// newFastStruct mirrors encoding/json's field rules for plain structs:
// exported fields named by their json tag or their Go name, "-" skipped,
// untagged embedded structs promoted. Anything it does not mirror exactly
// (other tag options, name clashes, other kinds) is an error.
func newFastStruct(t reflect.Type) (*fastStruct, error) {
	st := &fastStruct{typ: t, exact: map[string]*fastField{}, folded: map[string]*fastField{}}
	if err := st.add(t, nil); err != nil {
		return nil, err
	}
	return st, nil
}

func (st *fastStruct) add(t reflect.Type, prefix []int) error {
	for i := range t.NumField() {
		f := t.Field(i)
		index := append(append([]int(nil), prefix...), i)
		tag, hasTag := f.Tag.Lookup("json")
		if tag == "-" {
			continue
		}
		if f.Anonymous && !hasTag {
			if f.Type.Kind() != reflect.Struct || f.Type == moneyType {
				return errorf("%s: embedded %s is not a plain struct", st.typ, f.Type)
			}
			if err := st.add(f.Type, index); err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if hasTag {
			if tag == "" || !isPlainName(tag) {
				return errorf("%s.%s: json tag %q is not a plain name", st.typ, f.Name, tag)
			}
			name = tag
		}
		ff := &fastField{name: name, index: index}
		switch {
		case f.Type == moneyType:
			ff.kind = fastMoney
		case f.Type.Kind() == reflect.String:
			ff.kind = fastString
		case f.Type.Kind() == reflect.Int || f.Type.Kind() == reflect.Int64:
			ff.kind = fastInt
		case f.Type.Kind() == reflect.Struct:
			elem, err := newFastStruct(f.Type)
			if err != nil {
				return err
			}
			ff.kind, ff.elem = fastStructField, elem
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct && f.Type.Elem() != moneyType:
			elem, err := newFastStruct(f.Type.Elem())
			if err != nil {
				return err
			}
			ff.kind, ff.elem = fastRows, elem
		default:
			return errorf("%s.%s: kind %s is not decoded in one pass", st.typ, f.Name, f.Type.Kind())
		}
		upper := string(asciiUpper(nil, []byte(name)))
		if st.exact[name] != nil || st.folded[upper] != nil {
			return errorf("%s: two fields are named %q", st.typ, name)
		}
		st.exact[name], st.folded[upper] = ff, ff
		st.fields = append(st.fields, ff)
	}
	return nil
}

func isPlainName(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func asciiUpper(dst, s []byte) []byte {
	for _, c := range s {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("fast decoder: "+format, args...)
}

// lookup finds the field for a key as encoding/json does: the exact name,
// else the name that equals it ignoring case. key is ASCII.
func (st *fastStruct) lookup(key []byte) *fastField {
	if f := st.exact[string(key)]; f != nil {
		return f
	}
	if len(key) > 64 {
		return st.foldedSlow(key)
	}
	var buf [64]byte
	return st.folded[string(asciiUpper(buf[:0], key))]
}

func (st *fastStruct) foldedSlow(key []byte) *fastField {
	for _, f := range st.fields {
		if bytes.EqualFold(key, []byte(f.name)) {
			return f
		}
	}
	return nil
}

// maxFastDepth bounds nesting; deeper documents go to encoding/json.
const maxFastDepth = 64

// fastDecodeData decodes a success answer's Data into out in one pass and
// reports whether it did. When it returns false, out is exactly as it was
// and the caller must decode body the usual way.
func fastDecodeData(body []byte, out any) bool {
	st := fastPageTypes[reflect.TypeOf(out)]
	if st == nil {
		return false
	}
	v := reflect.ValueOf(out).Elem()
	rowsField, saved, ok := freshPage(st, v)
	if !ok {
		return false
	}
	d := fastDecoder{data: body, rowsField: rowsField}
	if d.envelope(st, v) {
		return true
	}
	// Put out back: its fields were zero and its row buffer's elements were
	// zero wherever the decoder wrote (it checks before writing).
	if saved.IsValid() {
		clearRows(saved, d.touched)
	}
	v.SetZero()
	if saved.IsValid() {
		v.FieldByIndex(rowsField.index).Set(saved)
	}
	return false
}

// freshPage reports whether v is a fresh page: every field zero except the
// rows, which may be an empty slice with room to reuse, as the walks hand
// it over. It returns the rows field (one per page type, possibly inside a
// nested struct) with its full index, and a copy of the slice.
func freshPage(st *fastStruct, v reflect.Value) (*fastField, reflect.Value, bool) {
	var rows *fastField
	var saved reflect.Value
	var walk func(st *fastStruct, v reflect.Value, prefix []int) bool
	walk = func(st *fastStruct, v reflect.Value, prefix []int) bool {
		for _, f := range st.fields {
			fv := v.FieldByIndex(f.index)
			switch f.kind {
			case fastRows:
				if rows != nil || fv.Len() != 0 {
					return false
				}
				rows = &fastField{name: f.name, kind: fastRows, elem: f.elem, index: append(append([]int(nil), prefix...), f.index...)}
				if !fv.IsNil() {
					saved = reflect.New(fv.Type()).Elem()
					saved.Set(fv)
				}
			case fastStructField:
				if !walk(f.elem, fv, append(append([]int(nil), prefix...), f.index...)) {
					return false
				}
			default:
				if !fv.IsZero() {
					return false
				}
			}
		}
		return true
	}
	return rows, saved, walk(st, v, nil)
}

func clearRows(s reflect.Value, n int) {
	n = min(n, s.Cap())
	s = s.Slice(0, n)
	for i := range n {
		s.Index(i).SetZero()
	}
}

// fastDecoder reads one JSON document.
type fastDecoder struct {
	data []byte
	pos  int
	// rowsField is the page's row slice; touched counts the elements of
	// its original backing array written so far.
	rowsField *fastField
	touched   int
}

func (d *fastDecoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *fastDecoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// envelope reads the whole body: the BSS envelope with Data decoded into v.
// It succeeds only for an answer the usual path would decode as a success.
func (d *fastDecoder) envelope(st *fastStruct, v reflect.Value) bool {
	d.ws()
	if d.peek() != '{' {
		return false
	}
	d.pos++
	d.ws()
	sawData, success := false, true
	if d.peek() == '}' {
		return false // no Data
	}
	for {
		key, ok := d.key()
		if !ok {
			return false
		}
		d.ws()
		switch {
		case asciiEqualFold(key, "Data"):
			if sawData || d.peek() != '{' {
				return false // a second Data, or Data that is not an object
			}
			sawData = true
			if !d.object(st, v, 1) {
				return false
			}
		case asciiEqualFold(key, "Success"):
			switch {
			case d.literal("true"):
				success = true
			case d.literal("false"):
				success = false
			case d.literal("null"):
				success = true // a nil *bool does not fail the answer
			default:
				return false
			}
		case asciiEqualFold(key, "RequestId"), asciiEqualFold(key, "HostId"), asciiEqualFold(key, "Code"),
			asciiEqualFold(key, "Message"), asciiEqualFold(key, "Recommend"):
			// Strings in Envelope: only their type matters on success.
			if d.peek() == '"' {
				if _, _, ok := d.stringToken(); !ok {
					return false
				}
			} else if !d.literal("null") {
				return false
			}
		default:
			if !d.skipValue(1) {
				return false
			}
		}
		d.ws()
		switch d.peek() {
		case ',':
			d.pos++
			d.ws()
			continue
		case '}':
			d.pos++
		default:
			return false
		}
		break
	}
	d.ws()
	return d.pos == len(d.data) && sawData && success
}

// asciiEqualFold compares an ASCII key with a name ignoring ASCII case, as
// encoding/json's folding does for ASCII.
func asciiEqualFold(key []byte, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i := range len(key) {
		a, b := key[i], name[i]
		if 'a' <= a && a <= 'z' {
			a -= 'a' - 'A'
		}
		if 'a' <= b && b <= 'z' {
			b -= 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// key reads an object key and the colon after it. Only plain ASCII keys
// are taken; others go to encoding/json, whose folding covers Unicode.
func (d *fastDecoder) key() ([]byte, bool) {
	if d.peek() != '"' {
		return nil, false
	}
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			d.ws()
			if d.peek() != ':' {
				return nil, false
			}
			d.pos++
			return d.data[start:i], true
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return nil, false
		}
	}
	return nil, false
}

// object reads a JSON object into the struct v.
func (d *fastDecoder) object(st *fastStruct, v reflect.Value, depth int) bool {
	if depth > maxFastDepth {
		return false
	}
	d.pos++ // '{'
	d.ws()
	if d.peek() == '}' {
		d.pos++
		return true
	}
	for {
		key, ok := d.key()
		if !ok {
			return false
		}
		d.ws()
		if f := st.lookup(key); f == nil {
			if !d.skipValue(depth + 1) {
				return false
			}
		} else if !d.field(f, v.FieldByIndex(f.index), depth+1) {
			return false
		}
		d.ws()
		switch d.peek() {
		case ',':
			d.pos++
			d.ws()
		case '}':
			d.pos++
			return true
		default:
			return false
		}
	}
}

// field reads one value into a field, as encoding/json's literalStore,
// object and array do for that kind.
func (d *fastDecoder) field(f *fastField, fv reflect.Value, depth int) bool {
	c := d.peek()
	switch f.kind {
	case fastString:
		switch c {
		case '"':
			s, ok := d.stringValue()
			if !ok {
				return false
			}
			fv.SetString(s)
			return true
		case 'n':
			return d.literal("null") // null leaves a string as it is
		}
		return false
	case fastInt:
		switch {
		case c == '-' || '0' <= c && c <= '9':
			start := d.pos
			if !d.number() {
				return false
			}
			n, err := strconv.ParseInt(string(d.data[start:d.pos]), 10, 64)
			if err != nil || fv.OverflowInt(n) {
				return false
			}
			fv.SetInt(n)
			return true
		case c == 'n':
			return d.literal("null")
		}
		return false
	case fastMoney:
		start := d.pos
		switch {
		case c == '"':
			if _, _, ok := d.stringToken(); !ok {
				return false
			}
		case c == '-' || '0' <= c && c <= '9':
			if !d.number() {
				return false
			}
		case c == 'n':
			if !d.literal("null") {
				return false
			}
		default:
			return false
		}
		// The very call encoding/json makes for an Unmarshaler.
		return fv.Addr().Interface().(*Money).UnmarshalJSON(d.data[start:d.pos]) == nil
	case fastStructField:
		switch c {
		case '{':
			return d.object(f.elem, fv, depth)
		case 'n':
			return d.literal("null") // null leaves a struct as it is
		}
		return false
	case fastRows:
		switch c {
		case '[':
			return d.rows(f.elem, fv, depth)
		case 'n':
			if !d.literal("null") {
				return false
			}
			fv.SetZero() // null empties a slice
			return true
		}
		return false
	}
	return false
}

// rows reads a JSON array into the slice s, as encoding/json does: from
// index 0, reusing the slice's backing array, each element decoded where it
// lies. Elements about to be written must be zero, as the walks leave them,
// so that a restart of the decode can restore them.
func (d *fastDecoder) rows(elem *fastStruct, s reflect.Value, depth int) bool {
	if depth > maxFastDepth {
		return false
	}
	d.pos++ // '['
	d.ws()
	i := 0
	original := s.Cap()
	isPageRows := d.rowsField != nil && d.rowsField.elem == elem
	for d.peek() != ']' {
		if d.peek() != '{' {
			return false // rows are objects; anything else is a type error
		}
		if i >= s.Cap() {
			s.Grow(1)
		}
		if i >= s.Len() {
			s.SetLen(i + 1)
		}
		e := s.Index(i)
		if !e.IsZero() {
			return false
		}
		if isPageRows && i < original {
			d.touched = max(d.touched, i+1)
		}
		if !d.object(elem, e, depth+1) {
			return false
		}
		i++
		d.ws()
		switch d.peek() {
		case ',':
			d.pos++
			d.ws()
			if d.peek() == ']' {
				return false // trailing comma
			}
		case ']':
		default:
			return false
		}
	}
	d.pos++ // ']'
	if i < s.Len() {
		s.SetLen(i)
	}
	if i == 0 {
		s.Set(reflect.MakeSlice(s.Type(), 0, 0))
	}
	return true
}

// stringToken scans a string and returns its contents (without quotes)
// and whether they need unquoting.
func (d *fastDecoder) stringToken() (content []byte, plain, ok bool) {
	start := d.pos + 1
	plain = true
	ascii := true
	for i := start; i < len(d.data); i++ {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			content = d.data[start:i]
			if plain && !ascii {
				plain = utf8.Valid(content)
			}
			return content, plain, true
		case c == '\\':
			plain = false
			i++
			if i >= len(d.data) {
				return nil, false, false
			}
			switch d.data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(d.data) {
					return nil, false, false
				}
				for _, h := range d.data[i+1 : i+5] {
					if !isHex(h) {
						return nil, false, false
					}
				}
				i += 4
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// stringValue reads a string value as encoding/json would store it.
func (d *fastDecoder) stringValue() (string, bool) {
	start := d.pos
	content, plain, ok := d.stringToken()
	if !ok {
		return "", false
	}
	if plain {
		return string(content), true
	}
	// Escapes or invalid UTF-8: let encoding/json unquote, so that
	// surrogates and replacement characters come out the same.
	var s string
	if err := json.Unmarshal(d.data[start:d.pos], &s); err != nil {
		return "", false
	}
	return s, true
}

// number scans a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *fastDecoder) number() bool {
	i := d.pos
	n := len(d.data)
	if i < n && d.data[i] == '-' {
		i++
	}
	switch {
	case i < n && d.data[i] == '0':
		i++
	case i < n && '1' <= d.data[i] && d.data[i] <= '9':
		for i < n && '0' <= d.data[i] && d.data[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < n && d.data[i] == '.' {
		i++
		if i >= n || d.data[i] < '0' || d.data[i] > '9' {
			return false
		}
		for i < n && '0' <= d.data[i] && d.data[i] <= '9' {
			i++
		}
	}
	if i < n && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < n && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if i >= n || d.data[i] < '0' || d.data[i] > '9' {
			return false
		}
		for i < n && '0' <= d.data[i] && d.data[i] <= '9' {
			i++
		}
	}
	d.pos = i
	return true
}

// literal consumes lit if it is next.
func (d *fastDecoder) literal(lit string) bool {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return true
	}
	return false
}

// skipValue consumes any valid JSON value.
func (d *fastDecoder) skipValue(depth int) bool {
	if depth > maxFastDepth {
		return false
	}
	switch c := d.peek(); {
	case c == '"':
		_, _, ok := d.stringToken()
		return ok
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '[':
		d.pos++
		d.ws()
		if d.peek() == ']' {
			d.pos++
			return true
		}
		for {
			if !d.skipValue(depth + 1) {
				return false
			}
			d.ws()
			switch d.peek() {
			case ',':
				d.pos++
				d.ws()
			case ']':
				d.pos++
				return true
			default:
				return false
			}
		}
	case c == '{':
		d.pos++
		d.ws()
		if d.peek() == '}' {
			d.pos++
			return true
		}
		for {
			if d.peek() != '"' {
				return false
			}
			if _, _, ok := d.stringToken(); !ok {
				return false
			}
			d.ws()
			if d.peek() != ':' {
				return false
			}
			d.pos++
			d.ws()
			if !d.skipValue(depth + 1) {
				return false
			}
			d.ws()
			switch d.peek() {
			case ',':
				d.pos++
				d.ws()
			case '}':
				d.pos++
				return true
			default:
				return false
			}
		}
	}
	return false
}
