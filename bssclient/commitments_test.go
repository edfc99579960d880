package bssclient

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestCommitmentDataDecodesAPIExamples: the API pages' own examples decode,
// including the one that quotes every number.
func TestCommitmentDataDecodesAPIExamples(t *testing.T) {
	var coupons CashCouponsData
	mustDecode(t, `{"CashCoupon":[{"Status":"Available","ExpiryTime":"2019-01-29T15:15:50Z","GrantedTime":"2018-08-02T15:15:50Z","NominalValue":"100.00","EffectiveTime":"2018-08-02T15:15:50Z","ApplicableScenarios":"Pay for the pay-as-you-go bills","CashCouponId":34534253254325,"ApplicableProducts":"All Alibaba Cloud services","CashCouponNo":"Q-b1485def8f04a","Balance":"100.00","Description":"x"}]}`, &coupons)
	c := coupons.CashCoupon[0]
	if c.CashCouponID != 34534253254325 || c.Balance != MustParseMoney("100") ||
		!c.ExpiryTime.Equal(time.Date(2019, 1, 29, 15, 15, 50, 0, time.UTC)) {
		t.Errorf("coupon decoded as %+v", c)
	}

	var usage ResourceUsageTotal
	mustDecode(t, `{"PeriodCoverage":[{"Period":"2021041500","UsagePercentage":"0.1"}],"TotalUsage":{"ReservationCost":"10","PostpaidCost":"100","SavedCost":"90","PotentialSavedCost":"100","UsagePercentage":"1"}}`, &usage)
	if usage.TotalUsage.UsagePercentage != MustParseMoney("1") || usage.PeriodCoverage[0].UsagePercentage != MustParseMoney("0.1") {
		t.Errorf("usage decoded as %+v", usage)
	}

	var coverage SavingsPlansCoverageTotal
	mustDecode(t, `{"PeriodCoverage":[{"Percentage":1,"Period":"2021071500"}],"TotalCoverage":{"CoveragePercentage":1,"DeductAmount":100}}`, &coverage)
	if coverage.TotalCoverage.CoveragePercentage != MustParseMoney("1") || coverage.TotalCoverage.DeductAmount != MustParseMoney("100") {
		t.Errorf("coverage decoded as %+v", coverage)
	}

	// Paging comes as strings inside Data.
	var plans ResourcePackageData
	mustDecode(t, `{"HostId":"cn","PageNum":"1","PageSize":"20","TotalCount":"1","Instances":{"Instance":[{"InstanceId":"OSSBAG-cn-v0h1s4hma01","Region":"cn-hangzhou","PackageType":"FPT_ossbag_absolute_Storage_sh","CommodityCode":"rds","DeductType":"Absolute","Status":"Available","Remark":"","EffectiveTime":"2018-09-12T09:51:56Z","ExpiryTime":"2019-03-12T16:00:00Z","TotalAmount":"40.000","TotalAmountUnit":"GB","RemainingAmount":"40.000","RemainingAmountUnit":"GB","ApplicableProducts":{"Product":["oss"]}}]}}`, &plans)
	if plans.totalCount() != 1 || plans.rows()[0].TotalAmount != MustParseMoney("40") || plans.rows()[0].ApplicableProducts.Product[0] != "oss" {
		t.Errorf("plans decoded as %+v", plans)
	}

	var instances AvailableInstancesData
	mustDecode(t, `{"PageNum":1,"PageSize":10,"TotalCount":11,"InstanceList":[{"InstanceID":"rm-1","OwnerId":325352345,"EndTime":"2019-09-08T16:00:00Z","ReleaseTime":"","RenewalDuration":1}]}`, &instances)
	if in := instances.InstanceList[0]; in.OwnerID != "325352345" || !in.ReleaseTime.IsZero() || in.EndTime.IsZero() {
		t.Errorf("instance decoded as %+v", in)
	}
}

// TestEnvelopeSuccessAsString: DescribeResourceUsageTotal's example quotes
// Success too ("Success":"true"); the whole example answer decodes, and
// Success is read as the boolean it spells, either way and either spelling.
func TestEnvelopeSuccessAsString(t *testing.T) {
	const example = `{"Message":"Successful!","RequestId":"79EE7556-0CFD-44EB-9CD6-B3B526E3A85F","Data":{"PeriodCoverage":[{"Period":"2021041500","UsagePercentage":"0.1"}],"TotalUsage":{"ReservationCost":"10","PostpaidCost":"100","SavedCost":"90","PotentialSavedCost":"100","UsagePercentage":"1"}},"Code":"Success","Success":"true"}`
	usage, err := decodeResponse[ResourceUsageTotal](ActionDescribeResourceUsageTotal, 200, []byte(example))
	if err != nil {
		t.Fatalf("the API page's example answer is refused: %v", err)
	}
	if usage.TotalUsage.UsagePercentage != MustParseMoney("1") {
		t.Errorf("usage decoded as %+v", usage)
	}

	for _, tc := range []struct {
		json string
		want bool
	}{{`true`, true}, {`"true"`, true}, {`false`, false}, {`"false"`, false}} {
		var env response[json.RawMessage]
		if err := json.Unmarshal([]byte(`{"Success":`+tc.json+`}`), &env); err != nil {
			t.Errorf("Success:%s refused: %v", tc.json, err)
			continue
		}
		if env.Success == nil || bool(*env.Success) != tc.want {
			t.Errorf("Success:%s read as %v, want %v", tc.json, env.Success, tc.want)
		}
	}
	var env response[json.RawMessage]
	if err := json.Unmarshal([]byte(`{"Success":null}`), &env); err != nil || env.Success != nil {
		t.Errorf("Success:null read as %v, %v; want absent", env.Success, err)
	}
}

func TestCommitmentDataRejectsBadValues(t *testing.T) {
	for _, bad := range []string{
		`{"TotalCount":"many"}`,
		`{"InstanceList":[{"EndTime":"2019-09-08 16:00:00"}]}`,
		`{"InstanceList":[{"EndTime":12}]}`,
	} {
		var d AvailableInstancesData
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("%s decoded without error", bad)
		}
	}
}

func mustDecode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decoding %s: %v", s, err)
	}
}

func TestAnalysisRequestParams(t *testing.T) {
	start := time.Date(2025, 3, 14, 0, 0, 0, 0, BillingZone)
	p, err := AnalysisRequest{Start: start, End: start.AddDate(0, 0, 1), PeriodType: PeriodDay, ResourceType: ResourceTypeRI}.
		params(ActionDescribeResourceUsageTotal, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Encode(); got != "EndPeriod=2025-03-15+00%3A00%3A00&PeriodType=DAY&ResourceType=RI&StartPeriod=2025-03-14+00%3A00%3A00" {
		t.Errorf("params %s", got)
	}
	for name, req := range map[string]AnalysisRequest{
		"no period":     {PeriodType: PeriodDay},
		"empty period":  {Start: start, End: start, PeriodType: PeriodDay},
		"bad type":      {Start: start, End: start.Add(time.Hour), PeriodType: "WEEK"},
		"bad resource":  {Start: start, End: start.Add(time.Hour), PeriodType: PeriodHour, ResourceType: "GPU"},
		"negative user": {Start: start, End: start.Add(time.Hour), PeriodType: PeriodHour, ResourceType: ResourceTypeSCU, BillOwnerID: -1},
	} {
		if _, err := req.params(ActionDescribeResourceUsageTotal, true); err == nil || Classify(err) != ClassBadRequest {
			t.Errorf("%s: %v, want a local bad request", name, err)
		}
	}
}

func TestIsUnavailable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&APIError{HTTPStatus: http.StatusBadRequest, Code: "NotApplicable"}, true},
		{&APIError{HTTPStatus: http.StatusForbidden, Code: "Forbidden.RAM"}, true},
		{&APIError{HTTPStatus: http.StatusNotFound, Code: "InvalidAction.NotFound"}, true},
		{&APIError{HTTPStatus: http.StatusBadRequest, Code: "InvalidParameter"}, false},
		{&APIError{HTTPStatus: http.StatusServiceUnavailable, Code: "ServiceUnavailable"}, false},
		{&APIError{Code: "NotApplicable"}, false}, // refused locally, never sent
		{errors.New("connection reset"), false},
	} {
		if got := IsUnavailable(tc.err); got != tc.want {
			t.Errorf("IsUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
