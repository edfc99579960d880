package doctor

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/collector"
)

// unchecked are the guesses the exporter makes where BSS's documentation
// is silent (each marked INFERRED or UNCONFIRMED in the code) that these
// checks cannot test on an account, each with why. The ones they can test
// are checks of their own (site currency, percentages, the codes of
// actions that do not apply, the representations read, the form of the
// split rows).
var unchecked = []struct{ guess, why string }{
	{"a MONTHLY split bill books the days not split yet as its DAILY bills do",
		"the ossbucket collector checks it on every read and says which way it reads in aliyun_billing_ossbucket_cycle_from_monthly_bill"},
	{"billing days, analysis periods and times without a zone are in UTC+8",
		"BSS's answers carry no zone to compare with; the bills agree with the billing console's days only if this holds"},
	{"vouchers and prepaid cards are in the account's currency (the balance's)",
		"their answers name no currency to compare with"},
	{"the quota counts 10 requests in any sliding second",
		"only throttling would tell; aliyun_billing_bss_throttled_total staying at 0 says the client's spacing holds"},
	{"savings plan analyses settle 24 h after the day, with the bills",
		"a day's figure is read once; a later change would show only in the billing console"},
	{"Amortized Cost off answers NotApplicable",
		"seen only on an account without Amortized Cost: the DescribeProductAmortizedCostByAmortizationPeriod line above then shows the code BSS sent"},
	{"Split Bill off answers NotApplicable",
		"seen only on an account without Split Bill: the DescribeSplitItemBill line above then shows the code BSS sent"},
	{"an empty time of QueryAvailableInstances means none",
		"the renewal collector leaves such instances out of the expiry gauges, which an instance without an end time should be"},
	{"region names in bills are region IDs (cn-hangzhou)",
		"the region_id label shows what BSS sends; a name there would show as such in the Regions dashboard"},
	{"the throttling header's TimeLeft is in milliseconds",
		"seen only when BSS throttles; aliyun_billing_bss_throttled_total with retries that succeed says it holds"},
}

// planUnits notes the byte units a page of resource plans is in: the
// ones the resourceplan collector converts to bytes.
func (r *run) planUnits(plans []bssclient.ResourcePackageInstance) {
	for _, p := range plans {
		for _, u := range []string{p.TotalAmountUnit, p.RemainingAmountUnit} {
			if collector.IsResourcePlanByteUnit(u) {
				if r.byteUnits == nil {
					r.byteUnits = map[string]bool{}
				}
				r.byteUnits[u] = true
			}
		}
	}
}

// planTimestamps compares each savings plan's EndTimestamp, read as the
// savingsplan collector reads it, with its EndTime ("yyyy-MM-dd HH:mm:ss",
// UTC+8 as the client reads times without a zone).
func (r *run) planTimestamps(plans []bssclient.SavingsPlanInstance) {
	for _, p := range plans {
		end, err := time.ParseInLocation("2006-01-02 15:04:05", p.EndTime, bssclient.BillingZone)
		if p.EndTimestamp == 0 || err != nil {
			continue
		}
		stamp := time.Unix(0, int64(p.EndTimestamp)*bssclient.SavingsPlanTimestampUnit)
		if d := stamp.Sub(end); d < 24*time.Hour && d > -24*time.Hour {
			r.timestamps.agree++
		} else {
			r.timestamps.disagree++
		}
	}
}

// guesses reports the guesses: what this run saw of them, and why the
// others cannot be seen.
func (r *run) guesses() {
	var notApplicable []string
	for action, err := range r.actions {
		if err != nil && bssclient.IsUnavailable(err) && bssclient.ErrorCode(err) != bssclient.CodeNoPermission &&
			!strings.HasPrefix(bssclient.ErrorCode(err), "Forbidden") {
			notApplicable = append(notApplicable, action+" "+bssclient.ErrorCode(err))
		}
	}
	slices.Sort(notApplicable)
	if len(notApplicable) > 0 {
		r.add(Note, "guess", "actions that do not apply answered "+strings.Join(notApplicable, ", ")+
			": the exporter reads these codes as \"does not apply\"", "")
	}
	if r.in.Unexpected != nil {
		seen := r.in.Unexpected()
		if len(seen) == 0 {
			r.add(Note, "guess", "every value came in the representation the API reference declares", "")
		} else {
			var fields []string
			for f, n := range seen {
				fields = append(fields, fmt.Sprintf("%s (%d)", f, n))
			}
			slices.Sort(fields)
			r.add(Note, "guess", "values read in forms the reference does not declare: "+strings.Join(fields, ", ")+
				"; they are read, and counted in aliyun_billing_bss_unexpected_values_total", "")
		}
	}
	if !r.splitForm.check(r) && slices.Contains(r.in.Enabled, "ossbucket") {
		r.add(Note, "guess", "one split row is one billing item of a bucket: not checked here; no settled day of the split bill was read within --max-requests", "")
	}
	if slices.Contains(r.in.Enabled, "resourceplan") {
		units := "the account's first page of plans has none in GB"
		if len(r.byteUnits) > 0 {
			units = "the account's plans are in " + strings.Join(slices.Sorted(maps.Keys(r.byteUnits)), ", ")
		}
		r.add(Note, "guess", "resource plan units in GB are binary (GiB): "+units+"; the binary reading cannot be checked here: "+
			"BSS reports remaining and total in the same unit, so their ratio is right either way; only the absolute amounts would be off by 7 %", "")
	}
	switch ts := r.timestamps; {
	case ts.disagree > 0:
		r.add(Unknown, "guess", fmt.Sprintf("savings plan timestamps are epoch milliseconds: %d of %d plans' EndTimestamp disagrees with their EndTime by more than a day",
			ts.disagree, ts.agree+ts.disagree), "report it (README, First run): the savings plan expiry gauges read EndTimestamp")
	case ts.agree > 0:
		r.add(Note, "guess", fmt.Sprintf("savings plan timestamps are epoch milliseconds: the EndTimestamp of %d plans agrees with their EndTime", ts.agree), "")
	case slices.Contains(r.in.Enabled, "savingsplan"):
		r.add(Note, "guess", "savings plan timestamps are epoch milliseconds: not checked here; the account's first page of savings plans has none with both EndTimestamp and EndTime", "")
	}
	for _, g := range unchecked {
		r.add(Note, "guess", g.guess+": not checked here; "+g.why, "")
	}
}
