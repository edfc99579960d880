package bsssim

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The commitment actions (wire_commitments.go, world_commitments.go). They
// join the served actions here so that server.go's dispatch needs one line.
func init() { servedActions = append(servedActions, CommitmentActions...) }

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
	return answer{}, newAPIError(http.StatusInternalServerError, codeInternalError, msgInternalError)
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

// inRange reports whether t is within [from, to], either bound unset.
func inRange(t, from, to time.Time) bool {
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || !t.After(to))
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
	from, e := isoParam(p, "ExpiryTimeStart")
	if e != nil {
		return answer{}, e
	}
	to, e := isoParam(p, "ExpiryTimeEnd")
	if e != nil {
		return answer{}, e
	}
	if _, e := boolParam(p, "IncludePartner"); e != nil {
		return answer{}, e
	}
	product := p.Get("ProductCode")
	var rows []ResourcePackageInstance
	for _, r := range w.ResourcePackages(at) {
		expiry, _ := time.Parse(isoLayout, r.ExpiryTime)
		if (product == "" || r.CommodityCode == product) && inRange(expiry, from, to) {
			rows = append(rows, r)
		}
	}
	num, size, lo, hi, e := pageRange(p, len(rows))
	if e != nil {
		return answer{}, e
	}
	data := &resourcePackageData{HostID: "cn", PageNum: strconv.Itoa(num), PageSize: strconv.Itoa(size), TotalCount: strconv.Itoa(len(rows))}
	data.Instances.Instance = nonNil(rows[lo:hi])
	ans := successAnswer(false)
	ans.data = data
	return ans, nil
}

func savingsPlans(w commitmentWorld, p url.Values, at time.Time) (answer, *apiError) {
	status := p.Get("Status")
	switch status {
	case "", "NORMAL", "RELEASE":
	default:
		return answer{}, invalidParameter("Status", status, "must be NORMAL or RELEASE")
	}
	id := p.Get("InstanceId")
	var rows []SavingsPlanInstance
	for _, r := range w.SavingsPlans(at) {
		if (status == "" || r.Status == status) && (id == "" || r.InstanceID == id) {
			rows = append(rows, r)
		}
	}
	num, size, lo, hi, e := pageRange(p, len(rows))
	if e != nil {
		return answer{}, e
	}
	ans := successAnswer(false)
	ans.data = &savingsPlansInstanceData{PageNum: num, PageSize: size, TotalCount: len(rows), Items: nonNil(rows[lo:hi])}
	return ans, nil
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
	req.PeriodType = p.Get("PeriodType")
	switch req.PeriodType {
	case "":
		return req, missingAPIParameter("PeriodType")
	case "HOUR", "DAY", "MONTH":
	default:
		return req, invalidParameter("PeriodType", req.PeriodType, "must be MONTH, DAY or HOUR")
	}
	if v := p.Get("BillOwnerId"); v != "" {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return req, invalidParameter("BillOwnerId", v, "must be an account ID")
		}
	}
	if action == actionDescribeResourceUsageTotal || action == actionDescribeResourceCoverageTotal {
		req.ResourceType = p.Get("ResourceType")
		switch req.ResourceType {
		case "":
			return req, missingAPIParameter("ResourceType")
		case "RI", "SCU":
		default:
			return req, invalidParameter("ResourceType", req.ResourceType, "must be RI or SCU")
		}
	}
	return req, nil
}

func availableInstances(w commitmentWorld, p url.Values, at time.Time) (answer, *apiError) {
	var bounds [4]time.Time
	for i, name := range []string{"EndTimeStart", "EndTimeEnd", "CreateTimeStart", "CreateTimeEnd"} {
		var e *apiError
		if bounds[i], e = isoParam(p, name); e != nil {
			return answer{}, e
		}
	}
	region, product, productType := p.Get("Region"), p.Get("ProductCode"), p.Get("ProductType")
	if region != "" && product == "" {
		return answer{}, missingAPIParameter("ProductCode") // "cannot be left empty if the region is specified"
	}
	sub := p.Get("SubscriptionType")
	switch sub {
	case "", "Subscription", "PayAsYouGo":
	default:
		return answer{}, invalidParameter("SubscriptionType", sub, "must be Subscription or PayAsYouGo")
	}
	renew := p.Get("RenewStatus")
	switch renew {
	case "", "AutoRenewal", "ManualRenewal", "NotRenewal":
	default:
		return answer{}, invalidParameter("RenewStatus", renew, "must be AutoRenewal, ManualRenewal or NotRenewal")
	}
	var ids map[string]bool
	if v := p.Get("InstanceIDs"); v != "" {
		list := strings.Split(v, ",")
		if len(list) > maxInstanceIDs {
			return answer{}, invalidParameter("InstanceIDs", v, fmt.Sprintf("must list at most %d IDs", maxInstanceIDs))
		}
		ids = map[string]bool{}
		for _, id := range list {
			ids[strings.TrimSpace(id)] = true
		}
	}
	timeFilter := func(v string, from, to time.Time) bool {
		if from.IsZero() && to.IsZero() {
			return true
		}
		t, err := time.Parse(isoLayout, v)
		return err == nil && inRange(t, from, to)
	}
	var rows []AvailableInstance
	for _, r := range w.AvailableInstances(at) {
		if (region == "" || r.Region == region) && (product == "" || r.ProductCode == product) &&
			(productType == "" || r.ProductType == productType) && (sub == "" || r.SubscriptionType == sub) &&
			(renew == "" || r.RenewStatus == renew) && (ids == nil || ids[r.InstanceID]) &&
			timeFilter(r.EndTime, bounds[0], bounds[1]) && timeFilter(r.CreateTime, bounds[2], bounds[3]) {
			rows = append(rows, r)
		}
	}
	num, size, lo, hi, e := pageRange(p, len(rows))
	if e != nil {
		return answer{}, e
	}
	ans := successAnswer(false)
	ans.data = &availableInstancesData{PageNum: num, PageSize: size, TotalCount: len(rows), InstanceList: nonNil(rows[lo:hi])}
	return ans, nil
}

// credits answers QueryCashCoupons and QueryPrepaidCards, which share their
// request and are not paged.
func credits(w commitmentWorld, action string, p url.Values, at time.Time) (answer, *apiError) {
	effective, e := boolParam(p, "EffectiveOrNot")
	if e != nil {
		return answer{}, e
	}
	from, e := isoParam(p, "ExpiryTimeStart")
	if e != nil {
		return answer{}, e
	}
	to, e := isoParam(p, "ExpiryTimeEnd")
	if e != nil {
		return answer{}, e
	}
	keep := func(status, expiry string) bool {
		t, _ := time.Parse(isoLayout, expiry)
		return (effective == nil || *effective == (status == "Available")) && inRange(t, from, to)
	}
	ans := successAnswer(false)
	if action == actionQueryCashCoupons {
		data := &cashCouponsData{CashCoupon: []CashCoupon{}}
		for _, c := range w.CashCoupons(at) {
			if keep(c.Status, c.ExpiryTime) {
				data.CashCoupon = append(data.CashCoupon, c)
			}
		}
		ans.data = data
		return ans, nil
	}
	data := &prepaidCardsData{PrepaidCard: []PrepaidCard{}}
	for _, c := range w.PrepaidCards(at) {
		if keep(c.Status, c.ExpiryTime) {
			data.PrepaidCard = append(data.PrepaidCard, c)
		}
	}
	ans.data = data
	return ans, nil
}
