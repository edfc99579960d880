package atomicfile

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteReplacesTheFile: the new content, with the permissions asked
// for, and no temporary file left.
func TestWriteReplacesTheFile(t *testing.T) {
	for _, perm := range []fs.FileMode{0o600, 0o644} {
		dir := t.TempDir()
		path := filepath.Join(dir, "state.json")
		if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := Write(path, perm, func(w io.Writer) error {
			_, err := io.WriteString(w, "new\n")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != "new\n" {
			t.Errorf("the file holds %q, want %q", got, "new\n")
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != perm {
			t.Errorf("mode %v (%v), want %v", fi.Mode().Perm(), err, perm)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("left behind: %v", entries)
		}
	}
}

// TestWriteKeepsTheOldFileOnFailure: a failed write leaves the previous
// file as it was and no temporary file.
func TestWriteKeepsTheOldFileOnFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "history.om")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(path, 0o644, func(w io.Writer) error {
		_, _ = w.Write([]byte("half"))
		return os.ErrDeadlineExceeded
	})
	if err == nil {
		t.Fatal("no error from a failed fill")
	}
	if got, _ := os.ReadFile(path); string(got) != "old\n" {
		t.Errorf("the file became %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

// TestWriteIntoAMissingDirectoryFails: the error is returned, nothing is
// created.
func TestWriteIntoAMissingDirectoryFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "state.json")
	if err := Write(path, 0o600, func(io.Writer) error { return nil }); err == nil {
		t.Error("no error writing into a missing directory")
	}
}
