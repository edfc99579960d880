package collector

import (
	"context"
	"iter"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// The commitment collectors (resourceplan, savingsplan, renewal, credit)
// read what the account has paid for ahead or been given and when it runs
// out. Each action is a part of its collector: an account that cannot use
// an action (bssclient.IsUnavailable: not enabled, not offered on its site,
// not in the RAM policy) gets one warning and
// aliyun_billing_commitments_api_available 0 for it, the rest of the
// collector keeps working, and the action is tried again once per refresh
// so that enabling it needs no restart.

// CommitmentsBSS is the part of the BSS API the commitment collectors read.
// *bssclient.Client implements it. It is separate from BSS so that clients
// and fakes written for the bill collectors need not grow.
type CommitmentsBSS interface {
	QueryResourcePackageInstances(ctx context.Context, req bssclient.ResourcePackageRequest) iter.Seq2[[]bssclient.ResourcePackageInstance, error]
	QuerySavingsPlansInstance(ctx context.Context) iter.Seq2[[]bssclient.SavingsPlanInstance, error]
	DescribeSavingsPlansUsageTotal(ctx context.Context, req bssclient.AnalysisRequest) (bssclient.SavingsPlansUsageTotal, error)
	DescribeSavingsPlansCoverageTotal(ctx context.Context, req bssclient.AnalysisRequest) (bssclient.SavingsPlansCoverageTotal, error)
	DescribeResourceUsageTotal(ctx context.Context, req bssclient.AnalysisRequest) (bssclient.ResourceUsageTotal, error)
	DescribeResourceCoverageTotal(ctx context.Context, req bssclient.AnalysisRequest) (bssclient.ResourceCoverageTotal, error)
	QueryAvailableInstances(ctx context.Context, req bssclient.AvailableInstancesRequest) iter.Seq2[[]bssclient.AvailableInstance, error]
	QueryCashCoupons(ctx context.Context) ([]bssclient.CashCoupon, error)
	QueryPrepaidCards(ctx context.Context) ([]bssclient.PrepaidCard, error)
}

// apiAvailableDesc is shared by the commitment collectors; each emits the
// actions it calls, so no series is emitted twice.
var apiAvailableDesc = prometheus.NewDesc(namespace+"_commitments_api_available",
	"1 if the account could use the BSS action at its last call (the commitment actions, the bill overview, amortized cost); 0 if BSS answered that it cannot (not enabled, not offered on its site, or not in the RAM policy). Its metrics are absent while 0.",
	[]string{"account", "action"}, nil)

// apiParts tracks which actions of one collector the account can use.
type apiParts struct {
	logger  log.Logger
	actions []string
	mu      sync.Mutex
	down    map[string]bool
}

func newAPIParts(logger log.Logger, actions ...string) *apiParts {
	return &apiParts{logger: logger, actions: actions, down: map[string]bool{}}
}

// settle records the outcome of calling action: off when the account
// cannot use the action (reported once, when it starts; its metrics go),
// and the error the refresh should fail with (its last good metrics stay).
func (p *apiParts) settle(action string, err error) (off bool, _ error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err == nil:
		if p.down[action] {
			level.Info(p.logger).Log("msg", "BSS action is available again", "action", action)
		}
		p.down[action] = false
		return false, nil
	case bssclient.IsUnavailable(err):
		if !p.down[action] {
			level.Warn(p.logger).Log("msg", "the account cannot use this BSS action; its metrics are off until it can (enable the service, or add the RAM action listed in the README)",
				"action", action, "code", bssclient.ErrorCode(err), "err", err)
		}
		p.down[action] = true
		return true, nil
	}
	return false, err
}

// readAction reads every page of a walk of action and settles the action
// with parts: off and err are settle's, and with either no items return.
func readAction[T any](parts *apiParts, action string, walk iter.Seq2[[]T, error]) (items []T, off bool, err error) {
	for page, err := range walk {
		if err != nil {
			off, err := parts.settle(action, err)
			return nil, off, err
		}
		items = append(items, page...)
	}
	parts.settle(action, nil)
	return items, false, nil
}

// firstOfEachID yields the items with an ID, the first of each ID only:
// an item listed twice (pages shifting under a walk) would be a duplicate
// series and fail the scrape.
func firstOfEachID[T any](items []T, id func(T) string) iter.Seq[T] {
	return func(yield func(T) bool) {
		seen := map[string]bool{}
		for _, it := range items {
			if k := id(it); k != "" && !seen[k] {
				seen[k] = true
				if !yield(it) {
					return
				}
			}
		}
	}
}

func (p *apiParts) available(action string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.down[action]
}

func (p *apiParts) metrics(account string) []prometheus.Metric {
	out := make([]prometheus.Metric, 0, len(p.actions))
	for _, a := range p.actions {
		out = append(out, prometheus.MustNewConstMetric(apiAvailableDesc, prometheus.GaugeValue, boolValue(p.available(a)), account, a))
	}
	return out
}

// ratio is num/den of two exact decimals as a float64, 0 when den is 0.
func ratio(num, den bssclient.Money) float64 {
	if den.IsZero() {
		return 0
	}
	return float64(num.Units()) / float64(den.Units())
}

// unixSeconds is a time as a sample value; the zero time has none.
func unixSeconds(t time.Time) (float64, bool) {
	if t.IsZero() {
		return 0, false
	}
	return float64(t.UnixNano()) / 1e9, true
}
