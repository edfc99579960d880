package collector

import (
	"fmt"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// Identity is whose data, read how, a piece of saved state holds: a
// collector's state file or a backfill's journal. State is reused only
// under the same Identity; anything else is read from BSS again, so a
// state directory shared by two exporters, a demo's state left behind for
// a real account, or an account renamed onto another's label, never shows
// one payer's numbers as another's.
type Identity struct {
	// Account is the configured name that labels the series.
	Account string `json:"account"`
	// Payer is the BSS site and payer account the bills were read from.
	Payer bssclient.Payer `json:"payer"`
	// Options are the options that shape the series (label names, caps,
	// money columns), as one string.
	Options string `json:"options"`
}

// Mismatch says which part of saved (the identity state was written
// under) differs from i, or "" if none does. It names the part, and the
// values where they are not an account ID.
func (i Identity) Mismatch(saved Identity) string {
	switch {
	case saved.Account != i.Account:
		return fmt.Sprintf("written for account %q, this is %q", saved.Account, i.Account)
	case saved.Payer.Site != i.Payer.Site:
		return fmt.Sprintf("written for BSS site %q, this account reads %q", saved.Payer.Site, i.Payer.Site)
	case saved.Payer.AccountID != i.Payer.AccountID:
		return "written for another payer account (its AccountID differs from the one BSS reports now)"
	case saved.Options != i.Options:
		return fmt.Sprintf("written with other options (%s), now %s", saved.Options, i.Options)
	}
	return ""
}
