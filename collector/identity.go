package collector

import (
	"fmt"
	"strconv"
	"strings"

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
		return "written with other options: " + optionsDiff(saved.Options, i.Options)
	}
	return ""
}

// optionsDiff names the first option that differs between two Options
// strings of space-separated key=value tokens (a bare token is a switch).
func optionsDiff(saved, now string) string {
	parse := func(s string) (keys []string, values map[string]string) {
		values = map[string]string{}
		for _, tok := range strings.Fields(s) {
			k, v, ok := strings.Cut(tok, "=")
			if !ok {
				v = "on"
			}
			keys = append(keys, k)
			values[k] = v
		}
		return keys, values
	}
	nowKeys, nowValues := parse(now)
	savedKeys, savedValues := parse(saved)
	show := func(v string, ok bool) string {
		if !ok {
			return "unset"
		}
		return strconv.Quote(v)
	}
	for _, k := range append(nowKeys, savedKeys...) {
		sv, sok := savedValues[k]
		nv, nok := nowValues[k]
		if sv != nv || sok != nok {
			return fmt.Sprintf("%s was %s, now %s", k, show(sv, sok), show(nv, nok))
		}
	}
	return fmt.Sprintf("%q, now %q", saved, now) // same options in another order
}

// stateOptions is what shapes the series collector keeps in a state file:
// its label names and caps.
func stateOptions(cfg Config, collector string) string {
	switch collector {
	case "account":
		return "labels=" + strings.Join(accountLabels[1:], ",")
	case "instance":
		o := "labels=" + strings.Join(instanceLabelsOf(cfg), ",")
		if cfg.Instance.PerInstance {
			o += fmt.Sprintf(" per-instance max=%d", cfg.Instance.MaxInstances)
		}
		return o
	case "ossbucket":
		return fmt.Sprintf("labels=%s max-buckets=%d", strings.Join(ossBucketLabelsOf(cfg)[1:], ","), cfg.OSSBucket.MaxBuckets)
	}
	return ""
}

// SeriesOptions is everything that shapes the series collector publishes
// under cfg: label names, caps and money columns, as one string for an
// Identity. Two runs whose SeriesOptions differ publish series that do not
// join.
func SeriesOptions(cfg Config, collector string) string {
	return stateOptions(cfg, collector) + " amounts=" + strings.Join(AmountColumns(cfg, collector), ",")
}
