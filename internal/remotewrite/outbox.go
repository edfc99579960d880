package remotewrite

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/atomicfile"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/regularfile"
)

// outboxVersion is the outbox file's format.
const outboxVersion = 1

// outboxMaxSize caps the outbox file read: a key per unit sent in the last
// outboxKeep, a few hundred bytes each.
const outboxMaxSize = 64 << 20

// outboxKeep is how long a sent unit is remembered. A unit leaves the
// exporter's exposition long before (the daily families show at most
// --billing.exposure-days days, and a final cycle until the next one is),
// so a key older than this cannot come back.
const outboxKeep = 100 * 24 * time.Hour

// outbox is the units one receiver acknowledged, kept in one file under
// the storage directory, named after the receiver's URL.
type outbox struct {
	path     string
	receiver string
	sent     map[string]int64 // key → the unit's time, Unix ms
}

type outboxFile struct {
	Version  int              `json:"version"`
	Receiver string           `json:"receiver"`
	Sent     map[string]int64 `json:"sent"`
}

// openOutbox reads the outbox of the receiver with identity id (its URL
// and headers, see Receiver.identity) from dir, or starts an empty one.
// The file is named by id's hash and records the redacted URL, for a
// person reading the directory.
func openOutbox(dir, id, receiverURL string) (*outbox, error) {
	sum := sha256.Sum256([]byte(id))
	o := &outbox{
		path:     filepath.Join(dir, "remote-write-"+hex.EncodeToString(sum[:8])+".json"),
		receiver: receiverURL,
		sent:     map[string]int64{},
	}
	data, err := regularfile.Read(o.path, outboxMaxSize)
	if errors.Is(err, fs.ErrNotExist) {
		return o, nil
	}
	if err != nil {
		return nil, fmt.Errorf("remote-write outbox: %w", err)
	}
	var f outboxFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("remote-write outbox %s: %w; remove it to send every unit again", o.path, err)
	}
	if f.Version != outboxVersion || f.Receiver != receiverURL {
		return nil, fmt.Errorf("remote-write outbox %s: version %d for %q, want version %d for %q; remove it to send every unit again",
			o.path, f.Version, f.Receiver, outboxVersion, receiverURL)
	}
	maps.Copy(o.sent, f.Sent)
	return o, nil
}

// markSent records units as acknowledged, forgets what is older than
// outboxKeep, and writes the file before it returns.
func (o *outbox) markSent(units []Unit, now time.Time) error {
	for _, u := range units {
		o.sent[u.Key] = u.Time.UnixMilli()
	}
	oldest := now.Add(-outboxKeep).UnixMilli()
	maps.DeleteFunc(o.sent, func(_ string, ms int64) bool { return ms < oldest })
	if err := os.MkdirAll(filepath.Dir(o.path), 0o750); err != nil {
		return err
	}
	return atomicfile.Write(o.path, 0o640, func(w io.Writer) error {
		return json.NewEncoder(w).Encode(outboxFile{Version: outboxVersion, Receiver: o.receiver, Sent: o.sent})
	})
}
