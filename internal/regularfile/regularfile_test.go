package regularfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		fifo:        "is a named pipe, not a regular file",
		link:        "is a character device, not a regular file",
		"/dev/null": "is a character device, not a regular file",
		dir:         "is a directory, not a regular file",
	} {
		done := make(chan error, 1)
		go func() {
			_, err := Read(path, 1<<20)
			done <- err
		}()
		select {
		case err := <-done:
			var nr *NotRegularError
			if !errors.As(err, &nr) || !strings.Contains(err.Error(), path+" "+want) {
				t.Errorf("Read(%s) = %v, want an error saying it %s", path, err, want)
			}
		case <-time.After(10 * time.Second): // a hang, not a timing assertion
			t.Fatalf("Read(%s) did not return", path)
		}
		if err := Check(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check(%s) = %v, want %q", path, err, want)
		}
	}
}

func TestReadCapsTheSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(path, make([]byte, 2048), 0o600); err != nil {
		t.Fatal(err)
	}
	if data, err := Read(path, 2048); err != nil || len(data) != 2048 {
		t.Errorf("at the limit: %d bytes, %v", len(data), err)
	}
	_, err := Read(path, 1024)
	var tl *TooLargeError
	if !errors.As(err, &tl) || err.Error() != path+" is larger than 1 KiB, the most read from such a file" {
		t.Errorf("over the limit: %v", err)
	}
}

func TestMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent")
	if _, err := Read(path, 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read of a missing file: %v, want fs.ErrNotExist", err)
	}
	if err := Check(path); err != nil {
		t.Errorf("Check of a missing file: %v, want nil", err)
	}
}
