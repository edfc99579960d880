package bsssim

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The commitment actions (wire_commitments.go, world_commitments.go).

// commitmentWorld is what the commitment actions ask the World. A stand-in
// world without it answers them as an account that cannot use them.
type commitmentWorld interface {
	CommitmentAPIAvailable(action string) bool
	ResourcePackages(at time.Time) []ResourcePackageInstance
	SavingsPlans(at time.Time) []SavingsPlanInstance
	SavingsPlansUsage(req AnalysisRequest, at time.Time) SavingsPlansUsageTotal
	SavingsPlansCoverage(req AnalysisRequest, at time.Time) SavingsPlansCoverageTotal
	ResourceUsage(req AnalysisRequest, at time.Time) ResourceUsageTotal
	ResourceCoverage(req AnalysisRequest, at time.Time) ResourceCoverageTotal
	AvailableInstances(at time.Time) []AvailableInstance
	CashCoupons(at time.Time) []CashCoupon
	PrepaidCards(at time.Time) []PrepaidCard
}

// maxAnalysisSpan bounds one analysis request (INFERRED: the console offers
// at most a year).
const maxAnalysisSpan = 366 * 24 * time.Hour

// maxInstanceIDs: InstanceIDs takes at most 100 comma-separated IDs.
const maxInstanceIDs = 100

func (s *Server) serveCommitment(c *call, at time.Time) (answer, *apiError) {
	w, ok := s.world.(commitmentWorld)
	if !ok || !w.CommitmentAPIAvailable(c.action) {
		return answer{}, newAPIError(http.StatusBadRequest, codeCommitmentNotApplicable,
			fmt.Sprintf("The account cannot use %s: the service is not activated for it or not offered on this site.", c.action))
	}
	p := c.params
	switch c.action {
	case actionQueryResourcePackageInstances:
		return resourcePackages(w, p, at)
	case actionQuerySavingsPlansInstance:
		return savingsPlans(w, p, at)
	case actionDescribeSavingsPlansUsageTotal, actionDescribeSavingsPlansCoverageTotal,
		actionDescribeResourceUsageTotal, actionDescribeResourceCoverageTotal:
		return analysisTotal(w, c.action, p, at)
	case actionQueryAvailableInstances:
		return availableInstances(w, p, at)
	case actionQueryCashCoupons, actionQueryPrepaidCards:
		return credits(w, c.action, p, at)
	}
	return answer{}, internalError(nil)
}

// isoParam reads an optional ISO 8601 UTC time ("2020-02-02T12:00:00Z").
func isoParam(p url.Values, name string) (time.Time, *apiError) {
	v := p.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(isoLayout, v)
	if err != nil {
		return time.Time{}, invalidParameter(name, v, "must be yyyy-MM-ddTHH:mm:ssZ in UTC")
	}
	return t, nil
}

// timeRange is a request's [from, to] of optional ISO 8601 UTC bounds; a
// zero bound is unset.
type timeRange struct{ from, to time.Time }

// readTimeRange reads the bounds fromName and toName, in that order.
func readTimeRange(p url.Values, fromName, toName string) (timeRange, *apiError) {
	from, e := isoParam(p, fromName)
	if e != nil {
		return timeRange{}, e
	}
	to, e := isoParam(p, toName)
	return timeRange{from, to}, e
}

// holds reports whether t is within the range.
func (r timeRange) holds(t time.Time) bool {
	return (r.from.IsZero() || !t.Before(r.from)) && (r.to.IsZero() || !t.After(r.to))
}

// holdsExpiry reports whether the ISO 8601 expiry v is within the range;
// one it cannot read stands for the zero time.
func (r timeRange) holdsExpiry(v string) bool {
	t, _ := time.Parse(isoLayout, v)
	return r.holds(t)
}

// holdsISO reports whether the ISO 8601 time v is within the range. With
// neither bound set it passes every v, even one it cannot read.
func (r timeRange) holdsISO(v string) bool {
	if r.from.IsZero() && r.to.IsZero() {
		return true
	}
	t, err := time.Parse(isoLayout, v)
	return err == nil && r.holds(t)
}

// enumParam reads an optional parameter that takes one of values.
func enumParam(p url.Values, name string, values ...string) (string, *apiError) {
	v := p.Get(name)
	if v == "" || slices.Contains(values, v) {
		return v, nil
	}
	last := len(values) - 1
	return "", invalidParameter(name, v, "must be "+strings.Join(values[:last], ", ")+" or "+values[last])
}

// requiredEnumParam is enumParam for a parameter that must be present.
func requiredEnumParam(p url.Values, name string, values ...string) (string, *apiError) {
	if p.Get(name) == "" {
		return "", missingAPIParameter(name)
	}
	return enumParam(p, name, values...)
}

// pagedAnswer answers the page of rows that PageNum and PageSize ask for,
// as data wraps it.
func pagedAnswer[T any](p url.Values, rows []T, data func(num, size, total int, page []T) any) (answer, *apiError) {
	num, size, lo, hi, e := pageRange(p, len(rows))
	if e != nil {
		return answer{}, e
	}
	ans := successAnswer(false)
	ans.data = data(num, size, len(rows), nonNil(rows[lo:hi]))
	return ans, nil
}

func boolParam(p url.Values, name string) (*bool, *apiError) {
	v := p.Get(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil || (v != "true" && v != "false") {
		return nil, invalidParameter(name, v, "must be true or false")
	}
	return &b, nil
}

func resourcePackages(w commitmentWorld, p url.Values, at time.Time) (answer, *apiError) {
	expiry, e := readTimeRange(p, "ExpiryTimeStart", "ExpiryTimeEnd")
	if e != nil {
		return answer{}, e
	}
	if _, e := boolParam(p, "IncludePartner"); e != nil {
		return answer{}, e
	}
	product := p.Get("ProductCode")
	rows := filter(w.ResourcePackages(at), func(r ResourcePackageInstance) bool {
		return (product == "" || r.CommodityCode == product) && expiry.holdsExpiry(r.ExpiryTime)
	})
	return pagedAnswer(p, rows, func(num, size, total int, page []ResourcePackageInstance) any {
		data := &resourcePackageData{HostID: "cn", PageNum: strconv.Itoa(num), PageSize: strconv.Itoa(size), TotalCount: strconv.Itoa(total)}
		data.Instances.Instance = page
		return data
	})
}

func savingsPlans(w commitmentWorld, p url.Values, at time.Time) (answer, *apiError) {
	status, e := enumParam(p, "Status", "NORMAL", "RELEASE")
	if e != nil {
		return answer{}, e
	}
	id := p.Get("InstanceId")
	rows := filter(w.SavingsPlans(at), func(r SavingsPlanInstance) bool {
		return (status == "" || r.Status == status) && (id == "" || r.InstanceID == id)
	})
	return pagedAnswer(p, rows, func(num, size, total int, page []SavingsPlanInstance) any {
		return &savingsPlansInstanceData{PageNum: num, PageSize: size, TotalCount: total, Items: page}
	})
}

func analysisTotal(w commitmentWorld, action string, p url.Values, at time.Time) (answer, *apiError) {
	req, e := readAnalysis(action, p, at)
	if e != nil {
		return answer{}, e
	}
	ans := successAnswer(false)
	switch action {
	case actionDescribeSavingsPlansUsageTotal:
		ans.data = w.SavingsPlansUsage(req, at)
	case actionDescribeSavingsPlansCoverageTotal:
		ans.data = w.SavingsPlansCoverage(req, at)
	case actionDescribeResourceUsageTotal:
		ans.data = w.ResourceUsage(req, at)
	default:
		ans.data = w.ResourceCoverage(req, at)
	}
	return ans, nil
}

func readAnalysis(action string, p url.Values, at time.Time) (AnalysisRequest, *apiError) {
	var req AnalysisRequest
	v := p.Get("StartPeriod")
	if v == "" {
		return req, missingAPIParameter("StartPeriod")
	}
	var err error
	if req.Start, err = time.ParseInLocation(analysisLayout, v, billingZone); err != nil {
		return req, invalidParameter("StartPeriod", v, "must be yyyy-MM-dd HH:mm:ss")
	}
	req.End = at // "EndPeriod: default = current time"
	if v := p.Get("EndPeriod"); v != "" {
		if req.End, err = time.ParseInLocation(analysisLayout, v, billingZone); err != nil {
			return req, invalidParameter("EndPeriod", v, "must be yyyy-MM-dd HH:mm:ss")
		}
	}
	switch {
	case !req.Start.Before(req.End):
		return req, invalidParameter("EndPeriod", p.Get("EndPeriod"), "must be after StartPeriod")
	case req.End.Sub(req.Start) > maxAnalysisSpan:
		return req, invalidParameter("EndPeriod", p.Get("EndPeriod"), "must be at most a year after StartPeriod")
	}
	var e *apiError
	if req.PeriodType, e = requiredEnumParam(p, "PeriodType", "MONTH", "DAY", "HOUR"); e != nil {
		return req, e
	}
	if v := p.Get("BillOwnerId"); v != "" {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return req, invalidParameter("BillOwnerId", v, "must be an account ID")
		}
	}
	if action == actionDescribeResourceUsageTotal || action == actionDescribeResourceCoverageTotal {
		if req.ResourceType, e = requiredEnumParam(p, "ResourceType", "RI", "SCU"); e != nil {
			return req, e
		}
	}
	return req, nil
}

func availableInstances(w commitmentWorld, p url.Values, at time.Time) (answer, *apiError) {
	f, e := readAvailableFilter(p)
	if e != nil {
		return answer{}, e
	}
	return pagedAnswer(p, filter(w.AvailableInstances(at), f.keep), func(num, size, total int, page []AvailableInstance) any {
		return &availableInstancesData{PageNum: num, PageSize: size, TotalCount: total, InstanceList: page}
	})
}

// availableFilter is what a QueryAvailableInstances request filters on. An
// empty string, a nil ids or a zero time matches every instance.
type availableFilter struct {
	region, product, productType, subscription, renewal string
	ids                                                 map[string]bool
	end, create                                         timeRange
}

func readAvailableFilter(p url.Values) (availableFilter, *apiError) {
	var f availableFilter
	var e *apiError
	if f.end, e = readTimeRange(p, "EndTimeStart", "EndTimeEnd"); e != nil {
		return f, e
	}
	if f.create, e = readTimeRange(p, "CreateTimeStart", "CreateTimeEnd"); e != nil {
		return f, e
	}
	f.region, f.product, f.productType = p.Get("Region"), p.Get("ProductCode"), p.Get("ProductType")
	if f.region != "" && f.product == "" {
		return f, missingAPIParameter("ProductCode") // "cannot be left empty if the region is specified"
	}
	if f.subscription, e = enumParam(p, "SubscriptionType", "Subscription", "PayAsYouGo"); e != nil {
		return f, e
	}
	if f.renewal, e = enumParam(p, "RenewStatus", "AutoRenewal", "ManualRenewal", "NotRenewal"); e != nil {
		return f, e
	}
	if v := p.Get("InstanceIDs"); v != "" {
		list := strings.Split(v, ",")
		if len(list) > maxInstanceIDs {
			return f, invalidParameter("InstanceIDs", v, fmt.Sprintf("must list at most %d IDs", maxInstanceIDs))
		}
		f.ids = map[string]bool{}
		for _, id := range list {
			f.ids[strings.TrimSpace(id)] = true
		}
	}
	return f, nil
}

func (f availableFilter) keep(r AvailableInstance) bool {
	return matches(f.region, r.Region) && matches(f.product, r.ProductCode) && matches(f.productType, r.ProductType) &&
		matches(f.subscription, r.SubscriptionType) && matches(f.renewal, r.RenewStatus) &&
		(f.ids == nil || f.ids[r.InstanceID]) &&
		f.end.holdsISO(r.EndTime) && f.create.holdsISO(r.CreateTime)
}

// matches reports whether v passes a filter; an empty filter passes all.
func matches(filter, v string) bool { return filter == "" || filter == v }

// credits answers QueryCashCoupons and QueryPrepaidCards, which share their
// request and are not paged.
func credits(w commitmentWorld, action string, p url.Values, at time.Time) (answer, *apiError) {
	effective, e := boolParam(p, "EffectiveOrNot")
	if e != nil {
		return answer{}, e
	}
	expiry, e := readTimeRange(p, "ExpiryTimeStart", "ExpiryTimeEnd")
	if e != nil {
		return answer{}, e
	}
	keep := func(c creditFields) bool {
		return (effective == nil || *effective == (c.Status == "Available")) && expiry.holdsExpiry(c.ExpiryTime)
	}
	ans := successAnswer(false)
	if action == actionQueryCashCoupons {
		ans.data = &cashCouponsData{CashCoupon: nonNil(filter(w.CashCoupons(at), func(c CashCoupon) bool { return keep(c.creditFields) }))}
	} else {
		ans.data = &prepaidCardsData{PrepaidCard: nonNil(filter(w.PrepaidCards(at), func(c PrepaidCard) bool { return keep(c.creditFields) }))}
	}
	return ans, nil
}

// filter returns the rows keep accepts, in order; nil if none. rows is left
// as it is (a World may hand out a cached slice).
func filter[T any](rows []T, keep func(T) bool) []T {
	var out []T
	for _, r := range rows {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}
