package bsssim

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ListObjectsV2, GetObject and HeadObject as OSS answers them
// (https://www.alibabacloud.com/help/en/oss/developer-reference/listobjectsv2,
// https://www.alibabacloud.com/help/en/oss/developer-reference/getobject,
// https://www.alibabacloud.com/help/en/oss/developer-reference/headobject).

const (
	defaultMaxKeys = 100
	maxMaxKeys     = 1000
	ossTimeLayout  = "2006-01-02T15:04:05.000Z"
)

type listBucketResult struct {
	XMLName               xml.Name       `xml:"ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	MaxKeys               int            `xml:"MaxKeys"`
	Delimiter             string         `xml:"Delimiter"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	KeyCount              int            `xml:"KeyCount"`
	Contents              []listedObject `xml:"Contents"`
	CommonPrefixes        []listedPrefix `xml:"CommonPrefixes"`
}

type listedObject struct {
	Key          string     `xml:"Key"`
	LastModified string     `xml:"LastModified"`
	ETag         string     `xml:"ETag"`
	Type         string     `xml:"Type"`
	Size         int64      `xml:"Size"`
	StorageClass string     `xml:"StorageClass"`
	Owner        *listOwner `xml:"Owner,omitempty"`
}

type listOwner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

type listedPrefix struct {
	Prefix string `xml:"Prefix"`
}

// listParams are ListObjectsV2's parameters.
type listParams struct {
	prefix, delimiter, startAfter, token, encoding string
	maxKeys                                        int
	fetchOwner                                     bool
	after                                          string // resume after this key or common prefix
}

func readListParams(q url.Values) (listParams, *ossError) {
	p := listParams{prefix: q.Get("prefix"), delimiter: q.Get("delimiter"), startAfter: q.Get("start-after"),
		token: q.Get("continuation-token"), encoding: q.Get("encoding-type"), maxKeys: defaultMaxKeys,
		fetchOwner: q.Get("fetch-owner") == "true"}
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxMaxKeys {
			return p, newOSSError(http.StatusBadRequest, ossInvalidArgument,
				fmt.Sprintf("Argument max-keys must be an integer between 1 and %d.", maxMaxKeys)).with("ArgumentName", "max-keys")
		}
		p.maxKeys = n
	}
	if p.encoding != "" && p.encoding != "url" {
		return p, newOSSError(http.StatusBadRequest, ossInvalidArgument, "Argument encoding-type must be url.").
			with("ArgumentName", "encoding-type")
	}
	p.after = p.startAfter
	if p.token != "" {
		after, err := base64.RawURLEncoding.DecodeString(p.token)
		if err != nil {
			return p, newOSSError(http.StatusBadRequest, ossInvalidArgument, "The continuation token provided is incorrect.").
				with("ArgumentName", "continuation-token")
		}
		p.after = string(after)
	}
	return p, nil
}

// listObjectsV2 pages the bucket's files by key. Only the page's files are
// counted and sized, so a listing never generates more than it shows.
func (s *OSSServer) listObjectsV2(w http.ResponseWriter, req *ossRequest) *ossError {
	if req.query.Get("list-type") != "2" {
		return newOSSError(http.StatusNotImplemented, ossNotImplemented, "The simulator serves ListObjectsV2 (list-type=2) only.")
	}
	p, e := readListParams(req.query)
	if e != nil {
		return e
	}
	at := s.clock.Now()
	res := listBucketResult{Name: req.bucket, Prefix: p.prefix, StartAfter: p.startAfter, MaxKeys: p.maxKeys,
		Delimiter: p.delimiter, EncodingType: p.encoding, ContinuationToken: p.token}
	last := ""
	for _, f := range s.filesAt(req.bucket, at) {
		if base := f.base(); !strings.HasPrefix(base, p.prefix) && !strings.HasPrefix(p.prefix, base) {
			continue // not counted: a listing by prefix costs only its files
		}
		s.completeFile(&f)
		key := f.key()
		if !strings.HasPrefix(key, p.prefix) || !listedAfter(key, p.after, p.delimiter) {
			continue
		}
		entry, isPrefix := key, false
		if i := strings.Index(key[len(p.prefix):], p.delimiter); p.delimiter != "" && i >= 0 {
			entry, isPrefix = key[:len(p.prefix)+i+len(p.delimiter)], true
			if entry == last {
				continue
			}
		}
		if res.KeyCount == p.maxKeys {
			res.IsTruncated = true
			res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(last))
			break
		}
		res.KeyCount++
		last = entry
		if isPrefix {
			res.CommonPrefixes = append(res.CommonPrefixes, listedPrefix{Prefix: p.encode(entry)})
			continue
		}
		res.Contents = append(res.Contents, s.listed(&f, p))
	}
	res.Prefix, res.StartAfter, res.Delimiter = p.encode(p.prefix), p.encode(p.startAfter), p.encode(p.delimiter)
	return writeOSSXML(w, http.StatusOK, res)
}

// listedAfter reports whether key comes after the resume point: after the
// key itself, or after every key of a common prefix.
func listedAfter(key, after, delimiter string) bool {
	if after == "" {
		return true
	}
	if delimiter != "" && strings.HasSuffix(after, delimiter) && strings.HasPrefix(key, after) {
		return false
	}
	return key > after
}

func (p *listParams) encode(s string) string {
	if p.encoding == "url" {
		return url.QueryEscape(s)
	}
	return s
}

func (s *OSSServer) listed(f *billFile, p listParams) listedObject {
	o := listedObject{Key: p.encode(f.key()), LastModified: f.snapshot.UTC().Format(ossTimeLayout),
		ETag: f.etag(), Type: "Normal", Size: s.sizeOf(f), StorageClass: "Standard"}
	if p.fetchOwner {
		id := strconv.FormatInt(f.sub.BucketOwnerID, 10)
		o.Owner = &listOwner{ID: id, DisplayName: id}
	}
	return o
}

// sizeOf is the file's size in bytes, generated once through a counting
// writer and remembered by ETag.
func (s *OSSServer) sizeOf(f *billFile) int64 {
	tag := f.etag()
	if n, ok := s.sizes.get(tag); ok {
		return n
	}
	var c countingWriter
	_ = s.writeFile(&c, f) // a countingWriter never fails
	s.sizes.put(tag, c.n)
	return c.n
}

// findFile returns the file stored under key at at.
func (s *OSSServer) findFile(bucket, key string, at time.Time) (billFile, bool) {
	base := withoutExtension(key)
	for _, f := range s.filesAt(bucket, at) {
		if f.base() == base {
			s.completeFile(&f)
			if f.key() == key {
				return f, true
			}
		}
	}
	return billFile{}, false
}

// serveObject answers GetObject and HeadObject.
func (s *OSSServer) serveObject(w http.ResponseWriter, r *http.Request, req *ossRequest) *ossError {
	f, ok := s.findFile(req.bucket, req.key, s.clock.Now())
	if !ok {
		return newOSSError(http.StatusNotFound, ossNoSuchKey, "The specified key does not exist.").with("Key", req.key)
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType())
	h.Set("ETag", f.etag())
	h.Set("Last-Modified", f.snapshot.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	h.Set("x-oss-object-type", "Normal")
	h.Set("x-oss-storage-class", "Standard")
	if notModified(r, &f) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if r.Method == http.MethodHead {
		h.Set("Content-Length", strconv.FormatInt(s.sizeOf(&f), 10))
		w.WriteHeader(http.StatusOK)
		return nil
	}
	if rng := r.Header.Get("Range"); rng != "" {
		if first, last, ok := parseByteRange(rng, s.sizeOf(&f)); ok {
			return s.serveRange(w, &f, first, last)
		} else if first >= 0 {
			return newOSSError(http.StatusRequestedRangeNotSatisfiable, ossInvalidRange,
				"The requested range cannot be satisfied.").with("RangeRequested", rng)
		}
		// OSS ignores a malformed Range and answers the whole object.
	}
	if n, ok := s.sizes.get(f.etag()); ok {
		h.Set("Content-Length", strconv.FormatInt(n, 10))
	}
	w.WriteHeader(http.StatusOK)
	c := &countingWriter{}
	if err := s.writeFile(io.MultiWriter(w, c), &f); err == nil {
		s.sizes.put(f.etag(), c.n)
	}
	return nil
}

// notModified applies If-None-Match and If-Modified-Since.
func notModified(r *http.Request, f *billFile) bool {
	if m := r.Header.Get("If-None-Match"); m != "" {
		return m == f.etag() || m == "*"
	}
	if since, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil {
		return !f.snapshot.Truncate(time.Second).After(since)
	}
	return false
}

// parseByteRange reads "bytes=first-last", "bytes=first-" or "bytes=-n".
// ok=false with first ≥ 0 is an unsatisfiable range; first < 0 a malformed one.
func parseByteRange(h string, size int64) (first, last int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	a, b, dash := strings.Cut(spec, "-")
	if !found || !dash || strings.Contains(spec, ",") {
		return -1, -1, false
	}
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	switch {
	case a == "" && errB == nil && y > 0: // the last y bytes
		return max(size-y, 0), size - 1, size > 0
	case errA != nil || x < 0 || (b != "" && (errB != nil || y < x)):
		return -1, -1, false
	case b == "" || y >= size:
		y = size - 1
	}
	return x, y, x < size
}

// serveRange writes bytes [first, last] of the file, generating and
// discarding what comes before them and stopping after them.
func (s *OSSServer) serveRange(w http.ResponseWriter, f *billFile, first, last int64) *ossError {
	h := w.Header()
	h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, s.sizeOf(f)))
	h.Set("Content-Length", strconv.FormatInt(last-first+1, 10))
	w.WriteHeader(http.StatusPartialContent)
	// errRangeDone ends the generation after the range; any other error is
	// the client hanging up. Either way the status is sent.
	_ = s.writeFile(&rangeWriter{w: w, skip: first, left: last - first + 1}, f)
	return nil
}

type ossErrorXML struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
	Extra     []xmlAny `xml:",any"`
}

type xmlAny struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

// replyOSSError writes the error XML; a HEAD answer carries it base64 in
// the x-oss-err header instead, having no body.
func (s *OSSServer) replyOSSError(w http.ResponseWriter, r *http.Request, requestID string, e *ossError) {
	body := ossErrorXML{Code: e.code, Message: e.message, RequestID: requestID, HostID: r.Host}
	for _, f := range e.extra {
		body.Extra = append(body.Extra, xmlAny{XMLName: xml.Name{Local: f.name}, Value: f.value})
	}
	// No EC element or x-oss-ec header: the simulator does not guess OSS's
	// error-center codes.
	if r.Method == http.MethodHead {
		b, _ := xml.MarshalIndent(body, "", "  ") // plain strings always marshal
		w.Header().Set("x-oss-err", base64.StdEncoding.EncodeToString(append([]byte(xml.Header), b...)))
		w.WriteHeader(e.status)
		return
	}
	_ = writeOSSXML(w, e.status, body) // plain strings always marshal
}

func writeOSSXML(w http.ResponseWriter, status int, v any) *ossError {
	b, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return newOSSError(http.StatusInternalServerError, "InternalError", "The simulator could not write its answer.")
	}
	b = append([]byte(xml.Header), b...)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return nil
}
