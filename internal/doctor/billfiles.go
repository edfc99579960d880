package doctor

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// The bill files check reads the newest settled day's instance bill twice,
// from the file the account's bill subscription pushes to OSS and from
// DescribeInstanceBill, and compares their payable sums: the first check
// that sets two of Alibaba's own sources side by side on the user's
// account, and the one that shows whether the columns the exporter expects
// of a file (INFERRED, bssclient's billFileColumns) are the real ones.

// dailyInstanceSubscription is the subscription whose daily files hold the
// rows of DescribeInstanceBill's DAILY granularity.
const dailyInstanceSubscription = "InstanceDetailForBillingPeriod"

// billFiles runs the check when the doctor was given the bucket's region.
func (r *run) billFiles(ctx context.Context) {
	if r.in.BillFiles == nil {
		return
	}
	subs := r.subscriptions
	if subs == nil { // the subscription collector is off: not read yet
		if !r.afford(1) {
			return
		}
		var err error
		if subs, err = r.in.Client.QueryBillToOSSSubscription(ctx); err != nil {
			r.add(Fail, "bill files", fmt.Sprintf("QueryBillToOSSSubscription: %v", err), nextFor(err, bssclient.ActionQueryBillToOSSSubscription))
			return
		}
	}
	i := slices.IndexFunc(subs, func(s bssclient.BillSubscription) bool { return s.SubscribeType == dailyInstanceSubscription })
	if i < 0 {
		r.add(Unknown, "bill files", "the account pushes no "+dailyInstanceSubscription+" bill files to OSS",
			"subscribe to it in the Billing console (bill subscription to OSS) before reading days from files")
		return
	}
	day := r.in.Config.Calendar().NewestSettledDay(r.in.Now, bssclient.KindInstanceAttributes)
	fromFile, err := r.fileSums(ctx, subs[i], day)
	if err != nil {
		next := "check the bucket's region and that the credentials may oss:GetObject on it"
		if errors.Is(err, bssclient.ErrBillFileMissing) {
			next = "BSS pushes a day's file after the day settles; if it is late, try again tomorrow"
		}
		r.add(Fail, "bill files", fmt.Sprintf("bucket %s: %v", subs[i].SubscribeBucket, err), next)
		return
	}
	r.compareSums(ctx, day, fromFile)
}

// daySums are one day's rows and payable per currency.
type daySums struct {
	rows    int
	payable map[string]bssclient.Money
}

// sumDay sums the pages of one day's instance bill.
func sumDay(walk iter.Seq2[[]bssclient.InstanceBillItem, error]) (daySums, error) {
	s := daySums{payable: map[string]bssclient.Money{}}
	for page, err := range walk {
		if err != nil {
			return s, err
		}
		for i := range page {
			sum, err := s.payable[page[i].Currency].Add(page[i].PretaxAmount)
			if err != nil {
				return s, err
			}
			s.payable[page[i].Currency] = sum
		}
		s.rows += len(page)
	}
	return s, nil
}

func (s daySums) String() string {
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(s.payable)) {
		parts = append(parts, s.payable[c].String()+" "+c)
	}
	return fmt.Sprintf("%d rows, payable %s", s.rows, strings.Join(parts, " + "))
}

func (r *run) fileSums(ctx context.Context, sub bssclient.BillSubscription, day bssclient.Day) (daySums, error) {
	files, err := bssclient.NewBillFiles(r.in.BillFiles, sub, r.payerID)
	if err != nil {
		return daySums{}, err
	}
	return sumDay(files.InstanceBillOfDay(ctx, day))
}

// compareSums walks the same day through the API when the budget allows
// and says whether the two sources agree.
func (r *run) compareSums(ctx context.Context, day bssclient.Day, fromFile daySums) {
	pages := (fromFile.rows + bssclient.MaxPageSize - 1) / bssclient.MaxPageSize
	if !r.afford(max(pages, 1)) {
		r.add(Unknown, "bill files", fmt.Sprintf("the file of %s reads: %s; the API's %d pages of that day do not fit --max-requests", day, fromFile, pages),
			fmt.Sprintf("run doctor with --max-requests=%d to compare the two", int(r.requests.Load())+pages+1))
		return
	}
	fromAPI, err := sumDay(r.in.Client.DescribeInstanceBill(ctx, bssclient.InstanceBillRequest{BillingCycle: day.Cycle(), Granularity: bssclient.Daily, BillingDate: day}))
	if err != nil {
		r.add(Fail, "bill files", fmt.Sprintf("DescribeInstanceBill of %s: %v", day, err), nextFor(err, bssclient.ActionDescribeInstanceBill))
		return
	}
	detail := fmt.Sprintf("%s: the file reads %s; DescribeInstanceBill reads %s", day, fromFile, fromAPI)
	if fromFile.rows != fromAPI.rows || !maps.Equal(fromFile.payable, fromAPI.payable) {
		r.add(Unknown, "bill files", detail, "the two sources of one settled day disagree: attach this report (--format=json) to an issue")
		return
	}
	r.add(OK, "bill files", detail, "")
}
