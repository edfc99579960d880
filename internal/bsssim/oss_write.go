package bsssim

import (
	"archive/zip"
	"bufio"
	"errors"
	"io"
	"path"
	"strings"
)

// Writing a bill file as a stream: rows are generated one at a time and
// written through a small buffer straight to the response (or to a zip
// part), so a million-row file costs the same memory as a ten-row one.
// UTF-8 without a byte-order mark, CRLF-free "\n" lines, RFC 4180 quoting
// (INFERRED: the page does not describe the CSV dialect).

// fileWriteBuffer is the buffer between the row generator and the network.
const fileWriteBuffer = 64 << 10

// csvRowWriter appends one CSV row at a time into a reused buffer.
type csvRowWriter struct {
	out  *bufio.Writer
	cols []*fileColumn
	line []byte
}

func (c *csvRowWriter) header(lang string) error {
	return c.write(func(line []byte, col *fileColumn) []byte { return appendCSVField(line, col.name(lang)) })
}

func (c *csvRowWriter) row(r *fileRow) error {
	return c.write(func(line []byte, col *fileColumn) []byte {
		if col.money != nil {
			return col.money(r).appendDecimal(line)
		}
		return appendCSVField(line, col.text(r))
	})
}

// write writes one line of the columns' fields, each appended by field.
func (c *csvRowWriter) write(field func(line []byte, col *fileColumn) []byte) error {
	c.line = c.line[:0]
	for i, col := range c.cols {
		if i > 0 {
			c.line = append(c.line, ',')
		}
		c.line = field(c.line, col)
	}
	c.line = append(c.line, '\n')
	_, err := c.out.Write(c.line)
	return err
}

// appendCSVField quotes a field only when it holds a comma, a quote or a
// line break, doubling inner quotes.
func appendCSVField(dst []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	dst = append(dst, strings.ReplaceAll(s, `"`, `""`)...)
	return append(dst, '"')
}

// writeFile writes the file's bytes to dst: one CSV, or a zip whose parts
// hold at most f.limit rows each, every part with the header.
func (s *OSSServer) writeFile(dst io.Writer, f *billFile) error {
	cw := &csvRowWriter{
		out:  bufio.NewWriterSize(dst, fileWriteBuffer),
		cols: columnsOf(f.kind(), f.sub.SubscribeLanguage, f.drop),
		line: make([]byte, 0, 1024),
	}
	lang := f.sub.SubscribeLanguage
	if !f.zipped() {
		if err := cw.header(lang); err != nil {
			return err
		}
		if err := s.world.eachFileRow(f, cw.row); err != nil {
			return err
		}
		return cw.out.Flush()
	}
	zw := zip.NewWriter(dst)
	n := 0
	err := s.world.eachFileRow(f, func(r *fileRow) error {
		if n%f.limit == 0 {
			if err := s.startZipPart(zw, cw, f, n/f.limit+1); err != nil {
				return err
			}
		}
		n++
		return cw.row(r)
	})
	if err == nil {
		err = cw.out.Flush()
	}
	if err != nil {
		return err
	}
	return zw.Close()
}

// startZipPart ends the current part and opens part number part.
func (s *OSSServer) startZipPart(zw *zip.Writer, cw *csvRowWriter, f *billFile, part int) error {
	if err := cw.out.Flush(); err != nil {
		return err
	}
	pw, err := zw.CreateHeader(&zip.FileHeader{Name: zipPartName(path.Base(f.base()), part), Method: zip.Deflate, Modified: f.snapshot})
	if err != nil {
		return err
	}
	cw.out.Reset(pw)
	return cw.header(f.sub.SubscribeLanguage)
}

// countingWriter counts what is written and keeps none of it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// errRangeDone stops a generation once a range's last byte is written.
var errRangeDone = errors.New("bsssim: range written")

// rangeWriter passes on bytes [skip, skip+left) of what is written to it.
type rangeWriter struct {
	w          io.Writer
	skip, left int64
}

func (r *rangeWriter) Write(p []byte) (int, error) {
	n := len(p)
	if r.skip >= int64(len(p)) {
		r.skip -= int64(len(p))
		return n, nil
	}
	p = p[r.skip:]
	r.skip = 0
	p = p[:min(int64(len(p)), r.left)]
	if _, err := r.w.Write(p); err != nil {
		return 0, err
	}
	r.left -= int64(len(p))
	if r.left == 0 {
		return n, errRangeDone
	}
	return n, nil
}
