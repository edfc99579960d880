package bsssim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// OSSFaults breaks the bill files the way a reader of them must survive:
// a day whose files were never pushed, an object that is missing, and a
// file whose header lacks a column (a renamed or dropped column). They last
// until Clear and are safe to change while serving.
type OSSFaults struct {
	mu          sync.Mutex
	missingDays []Day
	missingKeys []string          // keys without extension
	dropColumns map[string]string // key without extension → column name
}

// NewOSSFaults returns an OSSFaults that injects nothing.
func NewOSSFaults() *OSSFaults { return &OSSFaults{dropColumns: map[string]string{}} }

// MissDay removes every daily file of day d (UID_..._YYYYMMDD), as if that
// day's push failed; the month's files are unchanged.
func (f *OSSFaults) MissDay(d Day) {
	f.set(func() {
		if !slices.Contains(f.missingDays, d) {
			f.missingDays = append(f.missingDays, d)
		}
	})
}

// MissKey removes one object; key may leave out the .csv or .zip extension.
func (f *OSSFaults) MissKey(key string) {
	f.set(func() { f.missingKeys = append(f.missingKeys, withoutExtension(key)) })
}

// DropColumn leaves column (its header in the file's language, as
// the file's header names it) out of one object's header and rows.
func (f *OSSFaults) DropColumn(key, column string) {
	f.set(func() { f.dropColumns[withoutExtension(key)] = column })
}

// Clear removes every fault.
func (f *OSSFaults) Clear() {
	f.set(func() { f.missingDays, f.missingKeys, f.dropColumns = nil, nil, map[string]string{} })
}

func (f *OSSFaults) set(change func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change()
}

func withoutExtension(key string) string {
	return strings.TrimSuffix(strings.TrimSuffix(key, fileExtCSV), fileExtZip)
}

func (f *OSSFaults) missing(file *billFile) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return (!file.day.IsZero() && slices.Contains(f.missingDays, file.day)) ||
		slices.Contains(f.missingKeys, file.base())
}

func (f *OSSFaults) droppedColumn(file *billFile) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropColumns[file.base()]
}

// String describes the faults in ParseOSSFaults syntax.
func (f *OSSFaults) String() string {
	if f == nil {
		return ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var parts []string
	for _, d := range f.missingDays {
		parts = append(parts, "missing-day="+d.String())
	}
	for _, k := range f.missingKeys {
		parts = append(parts, "missing-key="+k)
	}
	for _, k := range slices.Sorted(maps.Keys(f.dropColumns)) {
		parts = append(parts, "drop-column="+k+":"+f.dropColumns[k])
	}
	return strings.Join(parts, ",")
}

// ParseOSSFaults reads the command-line syntax: comma-separated items
// missing-day=YYYY-MM-DD, missing-key=<key> and drop-column=<key>:<column>,
// for example "missing-day=2024-06-02,drop-column=billing/instance-detail/
// 1234_InstanceDetail_20240603:应付金额". Errors name the bad item.
func ParseOSSFaults(spec string) (*OSSFaults, error) {
	f := NewOSSFaults()
	for item := range specItems(spec) {
		name, value, _ := strings.Cut(item, "=")
		switch name {
		case "missing-day":
			d, err := parseDay(value)
			if err != nil {
				return nil, fmt.Errorf("OSS fault %q: %v", shorten(item), err)
			}
			f.MissDay(d)
		case "missing-key":
			if value == "" {
				return nil, fmt.Errorf("OSS fault %q: want missing-key=<key>", shorten(item))
			}
			f.MissKey(value)
		case "drop-column":
			key, column, ok := strings.Cut(value, ":")
			if !ok || key == "" || column == "" {
				return nil, fmt.Errorf("OSS fault %q: want drop-column=<key>:<column>", shorten(item))
			}
			f.DropColumn(key, column)
		default:
			return nil, fmt.Errorf("OSS fault %q: unknown, want missing-day, missing-key or drop-column", shorten(item))
		}
	}
	return f, nil
}
