package bssclient

import (
	"archive/zip"
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Decoding bill files as a stream: one CSV record at a time into a reused
// batch of the API's row types, so a file of a million rows costs what a
// file of one page costs. A zip's parts are read one after the other
// through an io.ReaderAt, as the zip directory sits at the end.

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
	var zero T
	b.rows = append(b.rows, zero)
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

// zipCSVParts lists a zip's CSV parts in part order. INFERRED: parts are
// named <name>_1.csv, <name>_2.csv, …; any .csv entry is taken, ordered by
// the number before ".csv" when there is one, so a different naming still
// reads every row.
func zipCSVParts(zr *zip.Reader) []*zip.File {
	var parts []*zip.File
	for _, f := range zr.File {
		if !f.FileInfo().IsDir() && strings.HasSuffix(strings.ToLower(f.Name), ".csv") {
			parts = append(parts, f)
		}
	}
	slices.SortStableFunc(parts, func(a, b *zip.File) int {
		na, nb := partNumber(a.Name), partNumber(b.Name)
		if na != nb {
			return na - nb
		}
		return strings.Compare(a.Name, b.Name)
	})
	return parts
}

// partNumber is the N of "…_N.csv", or 0.
func partNumber(name string) int {
	stem := name[:len(name)-len(".csv")]
	i := strings.LastIndexByte(stem, '_')
	n, err := strconv.Atoi(stem[i+1:])
	if i < 0 || err != nil {
		return 0
	}
	return n
}

// decodeZip decodes every CSV part of the zip at ra into b, one part at a
// time; each part carries its own header.
func decodeZip[T any](ra io.ReaderAt, size int64, name string, layout fileLayout, b *rowBatch[T]) error {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return fmt.Errorf("bill file %s: reading the zip: %w", name, err)
	}
	parts := zipCSVParts(zr)
	if len(parts) == 0 {
		return fmt.Errorf("bill file %s: the zip holds no CSV part", name)
	}
	for _, p := range parts {
		if err := decodeZipPart(p, name+" part "+p.Name, layout, b); err != nil {
			return err
		}
	}
	return nil
}

func decodeZipPart[T any](p *zip.File, name string, layout fileLayout, b *rowBatch[T]) error {
	rc, err := p.Open()
	if err != nil {
		return fmt.Errorf("bill file %s: %w", name, err)
	}
	defer rc.Close()
	return decodeCSVPart(rc, name, layout, b)
}

// windowReaderAt makes a file that seeks (the SDK's ReadOnlyFile) an
// io.ReaderAt for archive/zip, through one reused window of the file.
// ReadOnlyFile keeps its ranged download open while reads follow each
// other; the window makes zip's reads follow each other: a part's local
// header (30 bytes), its name and its data are read through the window,
// and a refill that starts where the last one ended continues the same
// download. So a zip costs a few GETs for its directory and one for all
// its parts, and memory is the window.
type windowReaderAt struct {
	mu     sync.Mutex
	f      io.ReadSeeker
	size   int64
	buf    []byte
	bufOff int64 // the file offset of buf[0]
	n      int   // valid bytes in buf
}

func newWindowReaderAt(f io.ReadSeeker, size int64) *windowReaderAt {
	return &windowReaderAt{f: f, size: size, buf: make([]byte, billFileReadBuffer)}
}

func (r *windowReaderAt) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	done := 0
	for done < len(p) {
		at := off + int64(done)
		if at >= r.size {
			return done, io.EOF
		}
		if at < r.bufOff || at >= r.bufOff+int64(r.n) {
			if err := r.fill(at); err != nil {
				return done, err
			}
		}
		done += copy(p[done:], r.buf[at-r.bufOff:r.n])
	}
	return done, nil
}

// fill reads the window from off.
func (r *windowReaderAt) fill(off int64) error {
	r.n = 0
	if _, err := r.f.Seek(off, io.SeekStart); err != nil {
		return err
	}
	want := int(min(int64(len(r.buf)), r.size-off))
	n, err := io.ReadFull(r.f, r.buf[:want])
	r.bufOff, r.n = off, n
	if n > 0 {
		return nil
	}
	if err == nil || err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return err
}
