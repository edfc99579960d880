package bssclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Commitments: what the account has already paid for or been given, and when
// it runs out. Resource plans, savings plans, reserved instances (RI) and
// storage capacity units (SCU), subscription expiries, vouchers and prepaid
// cards. Each action is one typed call or one paged walk; the wire types are
// in commitments_types.go.
//
// API pages:
//   - QueryResourcePackageInstances: https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-queryresourcepackageinstances
//   - QuerySavingsPlansInstance: https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-querysavingsplansinstance
//   - DescribeSavingsPlansUsageTotal: https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-describesavingsplansusagetotal
//   - DescribeSavingsPlansCoverageTotal: https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-describesavingsplanscoveragetotal
//   - DescribeResourceUsageTotal: https://alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-describeresourceusagetotal
//   - DescribeResourceCoverageTotal: https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-describeresourcecoveragetotal
//   - QueryAvailableInstances: https://www.alibabacloud.com/help/en/boa/latest/api-bssopenapi-2017-12-14-queryavailableinstances
//   - QueryCashCoupons: https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-querycashcoupons
//   - QueryPrepaidCards: https://www.alibabacloud.com/help/en/user-center/developer-reference/api-queryprepaidcards

// Commitment actions, as BSS spells them.
const (
	ActionQueryResourcePackageInstances     = "QueryResourcePackageInstances"
	ActionQuerySavingsPlansInstance         = "QuerySavingsPlansInstance"
	ActionDescribeSavingsPlansUsageTotal    = "DescribeSavingsPlansUsageTotal"
	ActionDescribeSavingsPlansCoverageTotal = "DescribeSavingsPlansCoverageTotal"
	ActionDescribeResourceUsageTotal        = "DescribeResourceUsageTotal"
	ActionDescribeResourceCoverageTotal     = "DescribeResourceCoverageTotal"
	ActionQueryAvailableInstances           = "QueryAvailableInstances"
	ActionQueryCashCoupons                  = "QueryCashCoupons"
	ActionQueryPrepaidCards                 = "QueryPrepaidCards"
)

// Time formats of the commitment actions. Resource plans, instances,
// vouchers and cards take and give ISO 8601 in UTC ("The time must be in
// UTC"); the savings-plan and RI analysis actions take a zone-less
// "yyyy-MM-dd HH:mm:ss".
const (
	ISOTimeLayout      = "2006-01-02T15:04:05Z"
	AnalysisTimeLayout = "2006-01-02 15:04:05"
)

// AnalysisZone is the clock of the analysis actions' zone-less times.
// UNCONFIRMED: the pages name no zone; UTC+8, like bill dates, is the guess,
// and this is the one place to change it.
var AnalysisZone = BillingZone

// PeriodType is the granularity of a savings-plan or RI analysis.
type PeriodType string

const (
	PeriodHour  PeriodType = "HOUR"
	PeriodDay   PeriodType = "DAY"
	PeriodMonth PeriodType = "MONTH"
)

// ResourceType selects reserved instances or storage capacity units.
type ResourceType string

const (
	ResourceTypeRI  ResourceType = "RI"
	ResourceTypeSCU ResourceType = "SCU"
)

// Renewal statuses of QueryAvailableInstances.
const (
	RenewStatusAutoRenewal   = "AutoRenewal"
	RenewStatusManualRenewal = "ManualRenewal"
	RenewStatusNotRenewal    = "NotRenewal"
)

// unavailableCodes are the answers that mean "this account cannot use this
// API" rather than "this request failed": the feature is not enabled or not
// offered on the account's site, or the RAM policy lacks the action. A
// collector that gets one disables only the part that called it.
// NotApplicable and InvalidOwner are the codes the legacy pages of
// QueryResourcePackageInstances and QueryCashCoupons list; the code of a
// savings-plan action on an account without savings plans is UNCONFIRMED,
// so a live observation adds one entry here.
var unavailableCodes = map[string]bool{
	"NotApplicable":          true,
	"InvalidOwner":           true,
	"NotAuthorized":          true,
	CodeNoPermission:         true,
	"InvalidAction.NotFound": true, // the site does not serve the action
	"InvalidApi.NotFound":    true,
}

// IsUnavailable reports whether err says the account cannot use the action
// at all (not enabled, not offered, not permitted), as opposed to a failure
// worth retrying or a bad request.
func IsUnavailable(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatus == 0 { // HTTPStatus 0: refused locally
		return false
	}
	return unavailableCodes[apiErr.Code] || strings.HasPrefix(apiErr.Code, "Forbidden")
}

// ResourcePackageRequest filters QueryResourcePackageInstances. The zero
// value lists every plan, all services.
type ResourcePackageRequest struct {
	ProductCode                    string
	ExpiryTimeStart, ExpiryTimeEnd time.Time // zero: unbounded
}

// QueryResourcePackageInstances walks the account's resource plans, up to
// MaxPageSize a page. Only plans that expired within the last year are
// listed ("You can query the resource plans that are expired within one
// year"). Each yielded slice is valid only until the loop body returns.
func (c *Client) QueryResourcePackageInstances(ctx context.Context, req ResourcePackageRequest) iter.Seq2[[]ResourcePackageInstance, error] {
	return walkPageNum[ResourcePackageInstance, ResourcePackageData](ctx, c, ActionQueryResourcePackageInstances, req.params)
}

func (r ResourcePackageRequest) params() (url.Values, error) {
	p := url.Values{}
	setIfNotEmpty(p, "ProductCode", r.ProductCode)
	setISOTime(p, "ExpiryTimeStart", r.ExpiryTimeStart)
	setISOTime(p, "ExpiryTimeEnd", r.ExpiryTimeEnd)
	return p, nil
}

// QuerySavingsPlansInstance walks the account's savings plans. Its page-size
// limit is UNDOCUMENTED; the walk asks for MaxPageSize like every other.
func (c *Client) QuerySavingsPlansInstance(ctx context.Context) iter.Seq2[[]SavingsPlanInstance, error] {
	return walkPageNum[SavingsPlanInstance, SavingsPlansInstanceData](ctx, c, ActionQuerySavingsPlansInstance, noParams)
}

// AnalysisRequest is the period of a savings-plan or RI/SCU analysis: Start
// inclusive, End exclusive, both read in AnalysisZone.
type AnalysisRequest struct {
	Start, End   time.Time
	PeriodType   PeriodType
	ResourceType ResourceType // RI/SCU actions only
	BillOwnerID  int64        // 0: the calling account
}

func (r AnalysisRequest) params(action string, withResourceType bool) (url.Values, error) {
	start, end := r.Start.In(AnalysisZone).Format(AnalysisTimeLayout), r.End.In(AnalysisZone).Format(AnalysisTimeLayout)
	switch {
	case r.Start.IsZero() || r.End.IsZero():
		return nil, localParamError(action, CodeMissingParameter, "StartPeriod and EndPeriod are required")
	case !r.Start.Before(r.End):
		return nil, localParamError(action, CodeInvalidParameter, "StartPeriod %s is not before EndPeriod %s", start, end)
	}
	switch r.PeriodType {
	case PeriodHour, PeriodDay, PeriodMonth:
	default:
		return nil, localParamError(action, CodeInvalidParameter, "PeriodType %q: want %s, %s or %s",
			truncateForError(string(r.PeriodType)), PeriodHour, PeriodDay, PeriodMonth)
	}
	p := url.Values{"StartPeriod": {start}, "EndPeriod": {end}, "PeriodType": {string(r.PeriodType)}}
	if withResourceType {
		switch r.ResourceType {
		case ResourceTypeRI, ResourceTypeSCU:
		default:
			return nil, localParamError(action, CodeInvalidParameter, "ResourceType %q: want %s or %s",
				truncateForError(string(r.ResourceType)), ResourceTypeRI, ResourceTypeSCU)
		}
		p.Set("ResourceType", string(r.ResourceType))
	}
	return checked(p, setBillOwner(p, action, r.BillOwnerID))
}

// DescribeSavingsPlansUsageTotal returns how much of the savings plans'
// commitment was used in the period.
func (c *Client) DescribeSavingsPlansUsageTotal(ctx context.Context, req AnalysisRequest) (SavingsPlansUsageTotal, error) {
	return analysis[SavingsPlansUsageTotal](ctx, c, ActionDescribeSavingsPlansUsageTotal, req, false)
}

// DescribeSavingsPlansCoverageTotal returns how much of the eligible spend
// the savings plans covered in the period.
func (c *Client) DescribeSavingsPlansCoverageTotal(ctx context.Context, req AnalysisRequest) (SavingsPlansCoverageTotal, error) {
	return analysis[SavingsPlansCoverageTotal](ctx, c, ActionDescribeSavingsPlansCoverageTotal, req, false)
}

// DescribeResourceUsageTotal returns the utilisation of RIs or SCUs.
func (c *Client) DescribeResourceUsageTotal(ctx context.Context, req AnalysisRequest) (ResourceUsageTotal, error) {
	return analysis[ResourceUsageTotal](ctx, c, ActionDescribeResourceUsageTotal, req, true)
}

// DescribeResourceCoverageTotal returns how much usage RIs or SCUs covered.
func (c *Client) DescribeResourceCoverageTotal(ctx context.Context, req AnalysisRequest) (ResourceCoverageTotal, error) {
	return analysis[ResourceCoverageTotal](ctx, c, ActionDescribeResourceCoverageTotal, req, true)
}

func analysis[T any](ctx context.Context, c *Client, action string, req AnalysisRequest, withResourceType bool) (T, error) {
	request := func() (url.Values, error) { return req.params(action, withResourceType) }
	return fetch(ctx, c, action, request, whole[T])
}

// AvailableInstancesRequest filters QueryAvailableInstances.
type AvailableInstancesRequest struct {
	SubscriptionType string // "" (all), Subscription or PayAsYouGo
	ProductCode      string
	RenewStatus      string    // "" (all), AutoRenewal, ManualRenewal or NotRenewal
	EndTimeStart     time.Time // expiry range; zero: unbounded
	EndTimeEnd       time.Time
}

// QueryAvailableInstances walks the account's instances with their expiry
// and renewal settings, up to MaxPageSize a page ("The maximum value is 300").
func (c *Client) QueryAvailableInstances(ctx context.Context, req AvailableInstancesRequest) iter.Seq2[[]AvailableInstance, error] {
	return walkPageNum[AvailableInstance, AvailableInstancesData](ctx, c, ActionQueryAvailableInstances, req.params)
}

func (r AvailableInstancesRequest) params() (url.Values, error) {
	const action = ActionQueryAvailableInstances
	p := url.Values{}
	if err := setSubscriptionType(p, action, r.SubscriptionType, r.ProductCode, false); err != nil {
		return nil, err
	}
	switch r.RenewStatus {
	case "", RenewStatusAutoRenewal, RenewStatusManualRenewal, RenewStatusNotRenewal:
	default:
		return nil, localParamError(action, CodeInvalidParameter, "RenewStatus %q: want %s, %s or %s",
			truncateForError(r.RenewStatus), RenewStatusAutoRenewal, RenewStatusManualRenewal, RenewStatusNotRenewal)
	}
	setIfNotEmpty(p, "RenewStatus", r.RenewStatus)
	setIfNotEmpty(p, "ProductCode", r.ProductCode)
	setISOTime(p, "EndTimeStart", r.EndTimeStart)
	setISOTime(p, "EndTimeEnd", r.EndTimeEnd)
	return p, nil
}

// QueryCashCoupons returns every voucher of the account. Not paged.
func (c *Client) QueryCashCoupons(ctx context.Context) ([]CashCoupon, error) {
	return fetch(ctx, c, ActionQueryCashCoupons, noParams,
		func(d *CashCouponsData) []CashCoupon { return d.CashCoupon })
}

// QueryPrepaidCards returns every prepaid card of the account. Not paged.
func (c *Client) QueryPrepaidCards(ctx context.Context) ([]PrepaidCard, error) {
	return fetch(ctx, c, ActionQueryPrepaidCards, noParams,
		func(d *PrepaidCardsData) []PrepaidCard { return d.PrepaidCard })
}

func setISOTime(p url.Values, name string, t time.Time) {
	if !t.IsZero() {
		p.Set(name, t.UTC().Format(ISOTimeLayout))
	}
}

// FlexInt is an integer BSS writes as a JSON number or as a decimal string:
// QueryResourcePackageInstances pages with integers at the top level and the
// same values as strings in Data. Both official SDKs decode tolerantly, so
// the wire type is not a contract. Empty string and null are 0.
type FlexInt int64

func (n *FlexInt) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	if len(b) == 0 || string(b) == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("invalid integer %q", truncateForError(string(b)))
	}
	*n = FlexInt(v)
	return nil
}

// IDText is an id that BSS writes as a JSON number or as a string, kept as
// its text: QueryAvailableInstances types OwnerId as a long, and its
// documented example shows it masked as "181****"
// (https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-queryavailableinstances).
// Kept as text, a masked id labels a series as BSS wrote it instead of
// failing the page; an integer would have to guess. Null is "".
type IDText string

func (id *IDText) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*id = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, (*string)(id))
	}
	if err := json.Unmarshal(b, (*json.Number)(id)); err != nil {
		return fmt.Errorf("invalid id %s: want a number or a string", truncateForError(string(b)))
	}
	return nil
}

// ISOTime is an ISO 8601 UTC time ("2019-03-12T16:00:00Z"); an empty string
// or null is the zero time (QueryAvailableInstances leaves times it does not
// know empty: INFERRED).
type ISOTime struct{ time.Time }

func (t *ISOTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("invalid time %s: want a string", truncateForError(string(b)))
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("invalid time %q: want %s", truncateForError(s), ISOTimeLayout)
	}
	t.Time = v
	return nil
}
