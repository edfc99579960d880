package bssclient

import (
	"bufio"
	"compress/flate"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"reflect"
	"strings"
)

// Decoding bill files as a stream: one CSV record at a time into a reused
// batch of the API's row types, so a file of a million rows costs what a
// file of one page costs. A zip's parts are inflated as they download.

// billFileBatchRows is how many rows a batch holds: an API page's worth,
// so a collector's loop over pages sees files the way it sees the API.
const billFileBatchRows = MaxPageSize

// billFileReadBuffer is the read buffer between the object and the CSV
// reader: large enough that reads are few, small enough not to matter.
const billFileReadBuffer = 64 << 10

// errStopped ends a decode when the consumer stops iterating: no failure.
var errStopped = errors.New("bill file: iteration stopped")

// rowBatch collects decoded rows and hands them on when full. The batch's
// memory is reused: a yielded slice is valid until the next step.
type rowBatch[T any] struct {
	rows  []T
	yield func([]T, error) bool
}

func newRowBatch[T any](yield func([]T, error) bool) *rowBatch[T] {
	return &rowBatch[T]{rows: make([]T, 0, billFileBatchRows), yield: yield}
}

// next returns a zeroed row at the batch's end: a column the file lacks
// must read as empty, not as the previous row's value.
func (b *rowBatch[T]) next() *T {
	b.rows = append(b.rows, *new(T))
	return &b.rows[len(b.rows)-1]
}

// drop removes the last row, one that failed to decode.
func (b *rowBatch[T]) drop() { b.rows = b.rows[:len(b.rows)-1] }

// flush yields the rows if the batch is full, or if final and not empty.
func (b *rowBatch[T]) flush(final bool) error {
	if len(b.rows) == 0 || (!final && len(b.rows) < cap(b.rows)) {
		return nil
	}
	if !b.yield(b.rows, nil) {
		return errStopped
	}
	clear(b.rows) // drop references to the yielded rows' strings
	b.rows = b.rows[:0]
	return nil
}

// decodeCSVPart decodes one CSV stream (a whole file, or one part of a
// zip) into b. name names the file (and part) in errors.
func decodeCSVPart[T any](r io.Reader, name string, layout fileLayout, b *rowBatch[T]) error {
	cr := csv.NewReader(bufio.NewReaderSize(r, billFileReadBuffer))
	cr.ReuseRecord = true
	// A stray quote inside a nickname or tag must not lose the file: it is
	// read as a character. The field count still guards the row's shape,
	// and amounts still parse strictly.
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err == io.EOF {
		return fmt.Errorf("bill file %s: empty, without a header", name)
	}
	if err != nil {
		return csvFailure(name, header, 0, err)
	}
	width := len(header)
	cols, err := bindColumns(header, reflect.TypeFor[T](), layout)
	if err != nil {
		return fmt.Errorf("bill file %s: %w", name, err)
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvFailure(name, rec, width, err)
		}
		if err := fillRow(reflect.ValueOf(b.next()).Elem(), rec, cols); err != nil {
			b.drop()
			line, _ := cr.FieldPos(err.record)
			return fmt.Errorf("bill file %s: line %d, column %d (%s): %w", name, line, err.record+1, err.column, err.err)
		}
		if err := b.flush(false); err != nil {
			return err
		}
	}
}

// csvFailure names the file, line and column of a record encoding/csv
// refused; a wrong field count is said as counts.
func csvFailure(name string, rec []string, width int, err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("bill file %s: %w", name, err)
	}
	if errors.Is(pe.Err, csv.ErrFieldCount) {
		return fmt.Errorf("bill file %s: line %d: %d fields, the header has %d: %w", name, pe.StartLine, len(rec), width, csv.ErrFieldCount)
	}
	return fmt.Errorf("bill file %s: line %d, column %d: %w", name, pe.Line, pe.Column, pe.Err)
}

// cellError is a cell that did not decode.
type cellError struct {
	record int
	column string
	err    error
}

// fillRow sets row's bound fields from rec. Strings are the record's own
// (encoding/csv allocates one string per record and slices the fields
// from it), amounts are parsed exactly.
func fillRow(row reflect.Value, rec []string, cols []boundColumn) *cellError {
	for i := range cols {
		c := &cols[i]
		f := row.FieldByIndex(c.field)
		if !c.money {
			f.SetString(rec[c.record])
			continue
		}
		m, err := ParseMoney(rec[c.record])
		if err != nil {
			return &cellError{record: c.record, column: c.name, err: err}
		}
		*f.Addr().Interface().(*Money) = m
	}
	return nil
}

// decodeZip decodes every CSV part of a zip, in the order the archive
// holds them, as the zip streams in: a part is found by its local header
// and inflated as it arrives, so a file costs one download whatever its
// size, and nothing waits for the directory at its end. Each part carries
// its own header. The parts are in their archive order (INFERRED: BSS
// writes _1, _2, … in order); a collector that needs rows in day order
// checks it.
func decodeZip[T any](body io.Reader, name string, layout fileLayout, b *rowBatch[T]) error {
	r := bufio.NewReaderSize(body, billFileReadBuffer)
	parts := 0
	for {
		part, err := nextZipPart(r)
		if err != nil {
			return fmt.Errorf("bill file %s: reading the zip: %w", name, err)
		}
		if part == nil { // the directory: every part was read
			if parts == 0 {
				return fmt.Errorf("bill file %s: the zip holds no CSV part", name)
			}
			return nil
		}
		if !strings.HasSuffix(part.name, "/") && strings.HasSuffix(strings.ToLower(part.name), ".csv") {
			parts++
			if err := decodeCSVPart(part, name+" part "+part.name, layout, b); err != nil {
				return err
			}
		}
		if err := part.finish(); err != nil {
			return fmt.Errorf("bill file %s part %s: %w", name, part.name, err)
		}
	}
}

// The signatures of a zip's records (APPNOTE.TXT, 4.3).
const (
	zipLocalHeader   = 0x04034b50
	zipDirectory     = 0x02014b50
	zipEndRecord     = 0x06054b50
	zipDescriptor    = 0x08074b50
	zipDeflate       = 8
	zipStore         = 0
	zipFlagEncrypted = 1 << 0
	zipFlagTrailing  = 1 << 3 // sizes and CRC follow the data
	zipExtraZip64    = 0x0001
)

// zipPart is one entry of a streamed zip: its data as it inflates, checked
// against its CRC once read to the end.
type zipPart struct {
	name       string
	r          *bufio.Reader
	compressed *countingReader // r, counted: the compressed bytes read
	data       io.Reader       // the entry's bytes, inflated
	inflater   io.ReadCloser
	size       int64 // inflated bytes read
	crc        hash.Hash32
	wantCRC    uint32
	trailing   bool // the CRC and sizes follow the data
	zip64      bool
}

func (p *zipPart) Read(b []byte) (int, error) {
	n, err := p.data.Read(b)
	p.crc.Write(b[:n])
	p.size += int64(n)
	if err == io.ErrUnexpectedEOF {
		err = noEOF(err)
	}
	return n, err
}

// countingReader counts the bytes read through it, byte by byte too, so
// that flate reads no byte past its stream.
type countingReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// nextZipPart reads the next local header from r, or returns nil at the
// central directory.
func nextZipPart(r *bufio.Reader) (*zipPart, error) {
	var h [30]byte
	if _, err := io.ReadFull(r, h[:4]); err != nil {
		return nil, noEOF(err)
	}
	switch binary.LittleEndian.Uint32(h[:4]) {
	case zipLocalHeader:
	case zipDirectory, zipEndRecord:
		return nil, nil
	default:
		return nil, errors.New("not a zip: no local file header where one belongs")
	}
	if _, err := io.ReadFull(r, h[4:]); err != nil {
		return nil, noEOF(err)
	}
	flags, method := binary.LittleEndian.Uint16(h[6:]), binary.LittleEndian.Uint16(h[8:])
	size := int64(binary.LittleEndian.Uint32(h[18:]))
	nameAndExtra := make([]byte, int(binary.LittleEndian.Uint16(h[26:]))+int(binary.LittleEndian.Uint16(h[28:])))
	if _, err := io.ReadFull(r, nameAndExtra); err != nil {
		return nil, noEOF(err)
	}
	nameLen := int(binary.LittleEndian.Uint16(h[26:]))
	p := &zipPart{name: string(nameAndExtra[:nameLen]), r: r, compressed: &countingReader{r: r}, crc: crc32.NewIEEE(),
		wantCRC: binary.LittleEndian.Uint32(h[14:]), trailing: flags&zipFlagTrailing != 0}
	if size64, ok := zip64Size(nameAndExtra[nameLen:]); ok {
		p.zip64 = true
		if size == 0xFFFFFFFF {
			size = size64
		}
	}
	switch {
	case flags&zipFlagEncrypted != 0:
		return nil, fmt.Errorf("part %s is encrypted", p.name)
	case method == zipDeflate:
		p.inflater = flate.NewReader(p.compressed) // an io.ByteReader: flate reads no byte past the part
		p.data = p.inflater
	case method == zipStore && !p.trailing:
		p.data = io.LimitReader(r, size)
	default:
		return nil, fmt.Errorf("part %s: compression method %d cannot be read as a stream", p.name, method)
	}
	return p, nil
}

// zip64Size is the compressed-size field of a zip64 extra block (the
// bytes a stored part spans), which a local header holds for parts of
// 4 GiB or more; ok reports that the block is there.
func zip64Size(extra []byte) (int64, bool) {
	for len(extra) >= 4 {
		id, n := binary.LittleEndian.Uint16(extra), int(binary.LittleEndian.Uint16(extra[2:]))
		if len(extra) < 4+n {
			break
		}
		if id == zipExtraZip64 {
			if n >= 16 {
				return int64(binary.LittleEndian.Uint64(extra[12:])), true // after the uncompressed size
			}
			return 0, true
		}
		extra = extra[4+n:]
	}
	return 0, false
}

// finish reads the rest of the part, and its trailing descriptor, and
// checks its CRC: a truncated or corrupt download fails here rather than
// passing for a shorter bill.
func (p *zipPart) finish() error {
	if _, err := io.Copy(io.Discard, p); err != nil {
		return err
	}
	if p.inflater != nil {
		if err := p.inflater.Close(); err != nil {
			return err
		}
	}
	if p.trailing {
		var w [4]byte
		if _, err := io.ReadFull(p.r, w[:]); err != nil {
			return noEOF(err)
		}
		if binary.LittleEndian.Uint32(w[:]) == zipDescriptor { // the signature is optional
			if _, err := io.ReadFull(p.r, w[:]); err != nil {
				return noEOF(err)
			}
		}
		p.wantCRC = binary.LittleEndian.Uint32(w[:])
		// The sizes are 8 bytes each past 4 GiB (zip64), else 4.
		sizes := 8
		if p.zip64 || p.compressed.n >= 0xFFFFFFFF || p.size >= 0xFFFFFFFF {
			sizes = 16
		}
		if _, err := p.r.Discard(sizes); err != nil {
			return noEOF(err)
		}
	}
	if got := p.crc.Sum32(); got != p.wantCRC {
		return fmt.Errorf("CRC-32 %08x, the zip says %08x: the download is corrupt", got, p.wantCRC)
	}
	return nil
}

// noEOF says a zip that ends early is cut short.
func noEOF(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("the zip ends before its directory: the download was cut short")
	}
	return err
}
