package bssclient

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"net/url"
	"strconv"
)

// Subscription types as BSS spells them.
const (
	SubscriptionTypeSubscription = "Subscription"
	SubscriptionTypePayAsYouGo   = "PayAsYouGo"
)

// QueryAccountBill walks the account's bill for a cycle (or one day with
// Granularity DAILY), one page of up to MaxPageSize rows at a time.
//
// Each yielded slice is valid only until the loop body returns; copy rows to
// keep them. On error the iterator yields (nil, err) once and stops. The
// request is validated before any call.
func (c *Client) QueryAccountBill(ctx context.Context, req AccountBillRequest) iter.Seq2[[]AccountBillItem, error] {
	return walkPageNum[AccountBillItem, AccountBillData](ctx, c, ActionQueryAccountBill, req.params)
}

// DescribeInstanceBill walks the instance bill (per billing item with
// IsBillingItem) for a cycle or a day, paged by NextToken.
//
// Each yielded slice is valid only until the loop body returns; copy rows to
// keep them. On error the iterator yields (nil, err) once and stops. The
// request is validated before any call.
func (c *Client) DescribeInstanceBill(ctx context.Context, req InstanceBillRequest) iter.Seq2[[]InstanceBillItem, error] {
	return walkToken[InstanceBillItem, InstanceBillData](ctx, c, ActionDescribeInstanceBill, req.params)
}

// DescribeSplitItemBill walks the split bill (OSS buckets, CDN domains, EIPs
// broken out of shared products), paged by NextToken. An account without
// Split Bill enabled gets an *APIError with CodeSplitBillNotEnabled.
//
// Each yielded slice is valid only until the loop body returns; copy rows to
// keep them. On error the iterator yields (nil, err) once and stops. The
// request is validated before any call.
func (c *Client) DescribeSplitItemBill(ctx context.Context, req SplitItemBillRequest) iter.Seq2[[]SplitItemBillItem, error] {
	return walkToken[SplitItemBillItem, SplitItemBillData](ctx, c, ActionDescribeSplitItemBill, req.params)
}

// QueryBillToOSSSubscription returns the account's bill subscriptions to OSS.
func (c *Client) QueryBillToOSSSubscription(ctx context.Context) ([]BillSubscription, error) {
	return fetch(ctx, c, ActionQueryBillToOSSSubscription, noParams,
		func(d *BillSubscriptionData) []BillSubscription { return d.Items.Item })
}

// QueryAccountBalance returns the account's balance.
func (c *Client) QueryAccountBalance(ctx context.Context) (AccountBalance, error) {
	return fetch(ctx, c, ActionQueryAccountBalance, noParams, whole[AccountBalance])
}

// fetch makes the one call of an action that is not paged, with the
// parameters request checks and builds, and returns what pick takes from
// its Data.
func fetch[D, R any](ctx context.Context, c *Client, action string, request func() (url.Values, error), pick func(*D) R) (R, error) {
	var zero R
	params, err := request()
	if err != nil {
		return zero, err
	}
	data, err := call[D](ctx, c, action, params)
	if err != nil {
		return zero, err
	}
	return pick(data), nil
}

// whole picks all of an answer's Data.
func whole[D any](data *D) D { return *data }

// noParams is the request of an action that takes no parameters.
func noParams() (url.Values, error) { return url.Values{}, nil }

// failed is an iterator that yields err once.
func failed[T any](err error) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) { yield(nil, err) }
}

func (r AccountBillRequest) params() (url.Values, error) {
	const action = ActionQueryAccountBill
	p := url.Values{}
	setTrue(p, "IsGroupByProduct", r.IsGroupByProduct)
	setIfNotEmpty(p, "ProductCode", r.ProductCode)
	return checked(p,
		setPeriod(p, action, r.BillingCycle, r.Granularity, r.BillingDate),
		setBillOwner(p, action, r.BillOwnerID))
}

func (r InstanceBillRequest) params() (url.Values, error) {
	const action = ActionDescribeInstanceBill
	p := url.Values{}
	setTrue(p, "IsBillingItem", r.IsBillingItem)
	setTrue(p, "IsHideZeroCharge", r.IsHideZeroCharge)
	setIfNotEmpty(p, "ProductCode", r.ProductCode)
	setIfNotEmpty(p, "InstanceID", r.InstanceID)
	return checked(p,
		setPeriod(p, action, r.BillingCycle, r.Granularity, r.BillingDate),
		// Unlike QueryInstanceBill, DescribeInstanceBill does not tie
		// SubscriptionType to ProductCode.
		setSubscriptionType(p, action, r.SubscriptionType, r.ProductCode, false),
		setBillOwner(p, action, r.BillOwnerID))
}

func (r SplitItemBillRequest) params() (url.Values, error) {
	const action = ActionDescribeSplitItemBill
	p := url.Values{}
	setTrue(p, "IsHideZeroCharge", r.IsHideZeroCharge)
	setIfNotEmpty(p, "ProductCode", r.ProductCode)
	setIfNotEmpty(p, "InstanceID", r.InstanceID)
	setIfNotEmpty(p, "SplitItemID", r.SplitItemID)
	return checked(p,
		setPeriod(p, action, r.BillingCycle, r.Granularity, r.BillingDate),
		// "This parameter must be used with the ProductCode parameter."
		setSubscriptionType(p, action, r.SubscriptionType, r.ProductCode, true),
		setBillOwner(p, action, r.BillOwnerID))
}

// checked returns p, or the first of the errors of the setters that
// checked its values: the order of the list is the order a request's
// refusals are reported in.
func checked(p url.Values, errs ...error) (url.Values, error) {
	if err := cmp.Or(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// setPeriod checks and sets BillingCycle, Granularity and BillingDate: the
// cycle is required, and BillingDate goes with Granularity DAILY and nothing
// else (every bill API documents the pair).
func setPeriod(p url.Values, action string, cycle Cycle, g Granularity, day Day) error {
	if cycle.IsZero() {
		return localParamError(action, CodeMissingParameter, "BillingCycle is required")
	}
	if cycle.Year < 1 || cycle.Year > 9999 || cycle.Month < 1 || cycle.Month > 12 {
		return localParamError(action, CodeInvalidParameter, "BillingCycle %q is not a valid YYYY-MM", cycle.String())
	}
	switch g {
	case "", Monthly, Daily:
	default:
		return localParamError(action, CodeInvalidParameter, "Granularity %q: want %s or %s", truncateForError(string(g)), Monthly, Daily)
	}
	switch {
	case g == Daily && day.IsZero():
		return localParamError(action, CodeMissingParameter, "Granularity %s requires BillingDate", Daily)
	case !day.IsZero() && g != Daily:
		return localParamError(action, CodeInvalidParameter, "BillingDate %s requires Granularity %s, got %q", day.String(), Daily, string(g))
	}
	if !day.IsZero() {
		if parsed, err := ParseDay(day.String()); err != nil || parsed != day {
			return localParamError(action, CodeInvalidParameter, "BillingDate %q is not a calendar day", day.String())
		}
		if day.Cycle() != cycle {
			return localParamError(action, CodeInvalidParameter, "BillingDate %s is outside BillingCycle %s", day.String(), cycle.String())
		}
	}
	p.Set("BillingCycle", cycle.String())
	setIfNotEmpty(p, "Granularity", string(g))
	if !day.IsZero() {
		p.Set("BillingDate", day.String())
	}
	return nil
}

func setSubscriptionType(p url.Values, action, subscriptionType, productCode string, needsProductCode bool) error {
	switch subscriptionType {
	case "":
		return nil
	case SubscriptionTypeSubscription, SubscriptionTypePayAsYouGo:
	default:
		return localParamError(action, CodeInvalidParameter, "SubscriptionType %q: want %s or %s",
			truncateForError(subscriptionType), SubscriptionTypeSubscription, SubscriptionTypePayAsYouGo)
	}
	if needsProductCode && productCode == "" {
		return localParamError(action, CodeMissingParameter, "SubscriptionType %s requires ProductCode", subscriptionType)
	}
	p.Set("SubscriptionType", subscriptionType)
	return nil
}

// setBillOwner sets BillOwnerId: the request spells it with a lowercase d,
// unlike the OwnerID of response rows.
func setBillOwner(p url.Values, action string, id int64) error {
	switch {
	case id < 0:
		return localParamError(action, CodeInvalidParameter, "BillOwnerId %d is negative", id)
	case id > 0:
		p.Set("BillOwnerId", strconv.FormatInt(id, 10))
	}
	return nil
}

func setIfNotEmpty(p url.Values, name, value string) {
	if value != "" {
		p.Set(name, value)
	}
}

// setTrue sends a flag only when it is set, as "true".
func setTrue(p url.Values, name string, set bool) {
	if set {
		p.Set(name, "true")
	}
}

// localParamError is a request refused before it was sent. It is an
// *APIError with the code BSS would answer, so Classify calls it a bad
// request and nothing retries it; HTTPStatus 0 tells it never left.
func localParamError(action, code, format string, args ...any) error {
	return &APIError{
		Action:  action,
		Code:    code,
		Message: fmt.Sprintf(format, args...) + " (checked locally; nothing was sent)",
	}
}
