// Package regularfile opens and reads the files the exporter is pointed at
// (its config, the web config, state files, backfill journals) only when
// they are regular files, and reads them only up to a size. A named pipe
// would block the reader until someone writes to it, and a device such as
// /dev/zero never ends: either would hang a refresh or a reload, or fill
// the memory, where the user expects an error that names the path.
package regularfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Open opens path with flag and perm, as os.OpenFile does, and returns the
// file only if it is a regular file. It opens without blocking, so that a
// named pipe fails here instead of waiting for a writer; the check is made
// on the opened file, so a path swapped between a check and the open
// cannot slip through.
func Open(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NONBLOCK, perm)
	if err != nil {
		return nil, err // *PathError names the file; fs.ErrNotExist stays testable
	}
	st, err := f.Stat()
	if err == nil {
		err = check(path, st.Mode())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Read returns the content of the regular file at path, and fails without
// reading further once it exceeds limit bytes.
func Read(path string, limit int64) ([]byte, error) {
	f, err := Open(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Path: path, Limit: limit}
	}
	return data, nil
}

// Check reports whether path, if it exists, is a regular file (following
// symbolic links). A missing file passes: callers that need one find out
// when they read it.
func Check(path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return check(path, st.Mode())
}

// TooLargeError is a file over the size a reader accepts.
type TooLargeError struct {
	Path  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than %s, the most read from such a file", e.Path, Size(e.Limit))
}

// NotRegularError is a path that names something other than a regular file.
type NotRegularError struct {
	Path string
	What string // "a directory", "a named pipe", …
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file", e.Path, e.What)
}

func check(path string, mode fs.FileMode) error {
	if mode.IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch {
	case mode.IsDir():
		what = "a directory"
	case mode&fs.ModeNamedPipe != 0:
		what = "a named pipe"
	case mode&fs.ModeSocket != 0:
		what = "a socket"
	case mode&fs.ModeCharDevice != 0:
		what = "a character device"
	case mode&fs.ModeDevice != 0:
		what = "a device"
	case mode&fs.ModeIrregular != 0:
		what = "an irregular file"
	}
	return &NotRegularError{Path: path, What: what}
}

// Size formats a byte count for messages: "4 MiB", "512 KiB", "100 bytes".
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
