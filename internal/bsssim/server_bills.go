package bsssim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// billParams are the parameters the bill actions share.
type billParams struct {
	cycle            Cycle
	granularity      Granularity
	date             Day
	productCode      string
	subscriptionType string
	instanceID       string
	splitItemID      string
	ownerID          int64
	groupByProduct   bool
	billingItem      bool
	hideZeroCharge   bool
}

// readBillParams validates what BSS validates: BillingCycle is required,
// YYYY-MM, within the last 18 months (12 for split bills) and not in the
// future; BillingDate goes with Granularity=DAILY only and lies in the cycle.
func readBillParams(p url.Values, kind DataKind, at time.Time) (billParams, *apiError) {
	var bp billParams
	var e *apiError
	if bp.cycle, e = readBillingCycle(p, kind, at); e != nil {
		return bp, e
	}
	switch g := p.Get("Granularity"); {
	case g == "" || strings.EqualFold(g, string(Monthly)):
		bp.granularity = Monthly
	case strings.EqualFold(g, string(Daily)):
		bp.granularity = Daily
	default:
		return bp, invalidParameter("Granularity", g, "is not one of MONTHLY, DAILY")
	}
	if bp.date, e = readBillingDate(p, bp.granularity, bp.cycle); e != nil {
		return bp, e
	}
	if bp.ownerID, e = readBillOwner(p); e != nil {
		return bp, e
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"IsGroupByProduct", &bp.groupByProduct}, {"IsBillingItem", &bp.billingItem}, {"IsHideZeroCharge", &bp.hideZeroCharge}} {
		switch v := p.Get(b.name); {
		case v == "" || strings.EqualFold(v, "false"):
		case strings.EqualFold(v, "true"):
			*b.dst = true
		default:
			return bp, invalidParameter(b.name, v, "is not true or false")
		}
	}
	bp.productCode = p.Get("ProductCode")
	bp.subscriptionType = p.Get("SubscriptionType")
	bp.instanceID = p.Get("InstanceID")
	bp.splitItemID = p.Get("SplitItemID")
	return bp, nil
}

// readBillOwner reads the optional BillOwnerId: 0 when absent.
func readBillOwner(p url.Values) (int64, *apiError) {
	return intParam(p, "BillOwnerId", 0, 1, math.MaxInt64, "is not an account ID")
}

// intParam reads an optional integer parameter: def when absent, else one
// from least to most, or InvalidParameter saying why not.
func intParam(p url.Values, name string, def, least, most int64, why string) (int64, *apiError) {
	v := p.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < least || n > most {
		return 0, invalidParameter(name, v, why)
	}
	return n, nil
}

// readBillingCycle reads the required BillingCycle: YYYY-MM, within the
// retention of kind, and not in the future.
func readBillingCycle(p url.Values, kind DataKind, at time.Time) (Cycle, *apiError) {
	raw := p.Get("BillingCycle")
	if raw == "" {
		return Cycle{}, missingAPIParameter("BillingCycle")
	}
	cycle, err := parseCycle(raw)
	if err != nil || cycle.String() != raw {
		return Cycle{}, invalidParameter("BillingCycle", raw, "is not a billing cycle in the YYYY-MM format")
	}
	if oldest := oldestQueryable(at, kind); cycle.Before(oldest) {
		return Cycle{}, invalidParameter("BillingCycle", raw,
			fmt.Sprintf("is older than the latest %d billing cycles (the oldest queryable is %s)", delays[kind].retention, oldest))
	}
	if current := cycleOf(at); current.Before(cycle) {
		return Cycle{}, invalidParameter("BillingCycle", raw, fmt.Sprintf("is in the future (the current billing cycle is %s)", current))
	}
	return cycle, nil
}

// readBillingDate reads BillingDate, which goes with Granularity DAILY
// only, and then is required and lies in cycle. Zero for MONTHLY.
func readBillingDate(p url.Values, granularity Granularity, cycle Cycle) (Day, *apiError) {
	raw := p.Get("BillingDate")
	switch {
	case raw == "" && granularity == Daily:
		return Day{}, invalidParameter("BillingDate", raw, "is required when Granularity is DAILY")
	case raw != "" && granularity != Daily:
		return Day{}, invalidParameter("BillingDate", raw, "is accepted only with Granularity DAILY")
	case raw == "":
		return Day{}, nil
	}
	day, err := parseDay(raw)
	if err != nil || day.String() != raw {
		return Day{}, invalidParameter("BillingDate", raw, "is not a date in the YYYY-MM-DD format")
	}
	if day.Cycle() != cycle {
		return Day{}, invalidParameter("BillingDate", raw, "is outside BillingCycle "+cycle.String())
	}
	return day, nil
}

// fingerprint identifies the query a NextToken belongs to: everything but the
// position and the page size.
func (bp billParams) fingerprint(action string) string {
	return strings.Join([]string{
		action, bp.cycle.String(), string(bp.granularity), dayString(bp.date),
		bp.productCode, bp.subscriptionType, bp.instanceID, bp.splitItemID,
		strconv.FormatInt(bp.ownerID, 10),
		strconv.FormatBool(bp.groupByProduct), strconv.FormatBool(bp.billingItem), strconv.FormatBool(bp.hideZeroCharge),
	}, "\x00")
}

func dayString(d Day) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// pageSize reads PageSize or MaxResults: default 20, at most 300.
func pageSize(p url.Values, name string) (int, *apiError) {
	n, e := intParam(p, name, defaultPageSize, 1, maxPageSize, fmt.Sprintf("must be an integer from 1 to %d", maxPageSize))
	return int(n), e
}

// ---------------------------------------------------------------------------
// NextToken: stateless and bound to its query. A token is base64 (standard
// alphabet, padded) of a fixed prefix, the offset and an HMAC of the query
// fingerprint and offset under a key private to this server. The prefix is
// chosen so every token contains "+", "/" and "=": a client that does not
// percent-encode the token breaks on the first page, not in production.

var base64Std = base64.StdEncoding.Strict()

var tokenPrefix = []byte{0x08, 0x01, 0x12, 0xfb, 0xff, 0xbf} // "CAES+/+/"

const (
	tokenMACLen = 16
	tokenLen    = 6 + 4 + tokenMACLen // 26 bytes: not a multiple of 3, so always padded
)

func (s *Server) tokenMAC(fingerprint string, offset uint32) []byte {
	m := hmacSum(sha256.New, s.tokenKey, []byte(fingerprint), binary.BigEndian.AppendUint32(nil, offset))
	return m[:tokenMACLen]
}

func (s *Server) issueToken(fingerprint string, offset int) string {
	b := make([]byte, 0, tokenLen)
	b = append(b, tokenPrefix...)
	b = binary.BigEndian.AppendUint32(b, uint32(offset))
	b = append(b, s.tokenMAC(fingerprint, uint32(offset))...)
	return base64Std.EncodeToString(b)
}

// readToken returns the offset a NextToken stands for: 0 for none.
func (s *Server) readToken(p url.Values, fingerprint string) (int, *apiError) {
	t := p.Get("NextToken")
	if t == "" {
		return 0, nil
	}
	bad := invalidParameter("NextToken", t, "is not the NextToken returned by the previous call of this query")
	b, err := base64Std.DecodeString(t)
	if err != nil || len(b) != tokenLen || !bytes.Equal(b[:len(tokenPrefix)], tokenPrefix) {
		return 0, bad
	}
	o := binary.BigEndian.Uint32(b[6:10])
	if !hmac.Equal(b[10:], s.tokenMAC(fingerprint, o)) {
		return 0, bad
	}
	return int(o), nil
}

// ---------------------------------------------------------------------------
// Actions

func (s *Server) queryAccountBill(c *call, at time.Time) (answer, *apiError) {
	bp, e := readBillParams(c.params, KindAmounts, at)
	if e != nil {
		return answer{}, e
	}
	items := s.world.AccountBill(AccountBillRequest{
		BillingCycle:     bp.cycle,
		Granularity:      bp.granularity,
		BillingDate:      bp.date,
		IsGroupByProduct: bp.groupByProduct,
		ProductCode:      bp.productCode,
		BillOwnerID:      bp.ownerID,
	}, at)
	return pagedBill(s, c, bp, len(items), len(items), func(offset, limit int) []AccountBillItem {
		return items[offset : offset+limit]
	})
}

// pagedBill answers the page PageNum and PageSize ask for of a bill of total
// rows, read with rows(offset, limit), of which only the first reachable can
// be paged to (QueryInstanceBill's cap).
func pagedBill[T any](s *Server, c *call, bp billParams, total, reachable int, rows func(offset, limit int) []T) (answer, *apiError) {
	num, size, lo, hi, e := pageRange(c.params, reachable)
	if e != nil {
		return answer{}, e
	}
	var page []T
	if hi > lo {
		page = rows(lo, hi-lo)
	}

	ans := successAnswer(true)
	data := &pagedBillData[T]{
		AccountID:    s.world.AccountID(),
		AccountName:  s.world.AccountName(),
		BillingCycle: bp.cycle.String(),
		PageNum:      num,
		PageSize:     size,
		TotalCount:   s.driftTotal(c, total, &ans),
	}
	data.Items.Item = nonNil(page)
	ans.data, ans.rows = data, len(page)
	return ans, nil
}

// pageRange reads PageNum (default 1, a 32-bit integer as BSS takes it)
// and PageSize and returns the rows [lo, hi) that page holds of the
// reachable rows.
func pageRange(p url.Values, reachable int) (num, size, lo, hi int, e *apiError) {
	n, e := intParam(p, "PageNum", 1, 1, math.MaxInt32, "must be a positive integer")
	if e != nil {
		return 0, 0, 0, 0, e
	}
	if size, e = pageSize(p, "PageSize"); e != nil {
		return 0, 0, 0, 0, e
	}
	lo = min((int(n)-1)*size, reachable)
	return int(n), size, lo, min(lo+size, reachable), nil
}

func instanceBillRequest(bp billParams) InstanceBillRequest {
	return InstanceBillRequest{
		BillingCycle:     bp.cycle,
		Granularity:      bp.granularity,
		BillingDate:      bp.date,
		IsBillingItem:    bp.billingItem,
		IsHideZeroCharge: bp.hideZeroCharge,
		ProductCode:      bp.productCode,
		SubscriptionType: bp.subscriptionType,
		InstanceID:       bp.instanceID,
		BillOwnerID:      bp.ownerID,
	}
}

// queryInstanceBill is the old PageNum API; it "no longer queries data
// beyond the 50,000th row" while TotalCount stays the true count.
func (s *Server) queryInstanceBill(c *call, at time.Time) (answer, *apiError) {
	bp, e := readBillParams(c.params, KindAmounts, at)
	if e != nil {
		return answer{}, e
	}
	req := instanceBillRequest(bp)
	total := s.world.InstanceBillCount(req, at)
	return pagedBill(s, c, bp, total, min(total, queryInstanceBillRowCap), func(offset, limit int) []InstanceBillItem {
		return s.world.InstanceBillRows(req, at, offset, limit)
	})
}

func (s *Server) describeInstanceBill(c *call, at time.Time) (answer, *apiError) {
	bp, e := readBillParams(c.params, KindAmounts, at)
	if e != nil {
		return answer{}, e
	}
	req := instanceBillRequest(bp)
	return tokenPagedBill(s, c, bp, s.world.InstanceBillCount(req, at), func(offset, limit int) []InstanceBillItem {
		return s.world.InstanceBillRows(req, at, offset, limit)
	})
}

// tokenPagedBill answers tokenPage's page of a bill action in the Data that
// DescribeInstanceBill and DescribeSplitItemBill share.
func tokenPagedBill[T any](s *Server, c *call, bp billParams, total int, rows func(offset, limit int) []T) (answer, *apiError) {
	page, e := tokenPage(s, c, bp, total, rows)
	if e != nil {
		return answer{}, e
	}
	page.ans.data = &tokenBillData[T]{
		AccountID: s.world.AccountID(), AccountName: s.world.AccountName(), BillingCycle: bp.cycle.String(),
		MaxResults: page.size, NextToken: page.nextToken, TotalCount: page.totalCount, Items: page.rows,
	}
	return page.ans, nil
}

// tokenAnswer is one page of a NextToken/MaxResults action, with the
// faults that apply to it already applied.
type tokenAnswer[T any] struct {
	ans              answer
	rows             []T
	size, totalCount int
	nextToken        string
}

// tokenPage reads MaxResults and NextToken and returns the page of a
// NextToken-paged walk over total rows, read with rows(offset, limit).
func tokenPage[T any](s *Server, c *call, bp billParams, total int, rows func(offset, limit int) []T) (tokenAnswer[T], *apiError) {
	size, e := pageSize(c.params, "MaxResults")
	if e != nil {
		return tokenAnswer[T]{}, e
	}
	fingerprint := bp.fingerprint(c.action)
	offset, e := s.readToken(c.params, fingerprint)
	if e != nil {
		return tokenAnswer[T]{}, e
	}
	var page []T
	if offset < total {
		page = rows(offset, min(size, total-offset))
	}
	t := tokenAnswer[T]{ans: successAnswer(true), rows: nonNil(page), size: size}
	t.nextToken = s.nextToken(c, fingerprint, offset+len(page), total, &t.ans)
	t.totalCount = s.driftTotal(c, total, &t.ans)
	t.ans.rows = len(page)
	return t, nil
}

func (s *Server) describeSplitItemBill(c *call, at time.Time) (answer, *apiError) {
	if !s.world.SplitBillEnabled() {
		return answer{}, newAPIError(http.StatusBadRequest, codeSplitBillNotEnabled,
			"Split Bill is not enabled for this account. Enable Split Bill in the User Center console "+
				"(Cost Allocation > Split Bill) before calling DescribeSplitItemBill; data appears 24 hours after enabling.")
	}
	bp, e := readBillParams(c.params, KindSplitItems, at)
	if e != nil {
		return answer{}, e
	}
	req := SplitItemBillRequest{
		BillingCycle:     bp.cycle,
		Granularity:      bp.granularity,
		BillingDate:      bp.date,
		IsHideZeroCharge: bp.hideZeroCharge,
		ProductCode:      bp.productCode,
		SubscriptionType: bp.subscriptionType,
		InstanceID:       bp.instanceID,
		SplitItemID:      bp.splitItemID,
		BillOwnerID:      bp.ownerID,
	}
	return tokenPagedBill(s, c, bp, s.world.SplitItemBillCount(req, at), func(offset, limit int) []SplitItemBillItem {
		return s.world.SplitItemBillRows(req, at, offset, limit)
	})
}

func (s *Server) queryBillToOSSSubscription() answer {
	data := &BillSubscriptionData{AccountID: s.world.AccountID(), AccountName: s.world.AccountName()}
	data.Items.Item = nonNil(s.world.Subscriptions())
	ans := successAnswer(false)
	ans.data = data
	return ans
}

// queryAccountBalance answers with Code "200" and Message "success", as the
// API page's example does, not the bills' "Success".
func (s *Server) queryAccountBalance(at time.Time) answer {
	b := s.world.Balance(at)
	return answer{
		code: "200",
		msg:  "success",
		data: &balanceData{
			AvailableAmount:     b.AvailableAmount.String(),
			AvailableCashAmount: b.AvailableCashAmount.String(),
			CreditAmount:        b.CreditAmount.String(),
			MybankCreditAmount:  b.MybankCreditAmount.String(),
			Currency:            b.Currency,
			QuotaLimit:          b.QuotaLimit.String(),
		},
	}
}

func successAnswer(paged bool) answer {
	return answer{code: "Success", msg: "Successful!", paged: paged}
}

// driftTotal applies the drift-total fault to a page's TotalCount. Only
// pages after a walk's first drift: the fault models a bill that changes
// while it is being walked, which a walk can see only against its first page.
func (s *Server) driftTotal(c *call, total int, ans *answer) int {
	continuation := c.params.Get("NextToken") != "" || (c.params.Get("PageNum") != "" && c.params.Get("PageNum") != "1")
	if continuation && s.faults.take(c.action, faultDriftTotal) {
		ans.faults = append(ans.faults, faultDriftTotal)
		return total + 1
	}
	return total
}

// nextToken is "" on the last page, else the token for the next offset. The
// repeat-token fault answers the request's own token instead.
func (s *Server) nextToken(c *call, fingerprint string, next, total int, ans *answer) string {
	if sent := c.params.Get("NextToken"); sent != "" && s.faults.take(c.action, faultRepeatToken) {
		ans.faults = append(ans.faults, faultRepeatToken)
		return sent
	}
	if next >= total {
		return ""
	}
	return s.issueToken(fingerprint, next)
}

// nonNil makes an empty page encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ---------------------------------------------------------------------------
// Stats

// queryBillOverview answers QueryBillOverview: one answer, not paged.
func (s *Server) queryBillOverview(c *call, at time.Time) (answer, *apiError) {
	cycle, e := readBillingCycle(c.params, KindAmounts, at)
	if e != nil {
		return answer{}, e
	}
	owner, e := readBillOwner(c.params)
	if e != nil {
		return answer{}, e
	}
	st := c.params.Get("SubscriptionType")
	if st != "" && st != "Subscription" && st != "PayAsYouGo" {
		return answer{}, invalidParameter("SubscriptionType", st, "is not one of Subscription, PayAsYouGo")
	}
	items := s.world.BillOverview(BillOverviewRequest{
		BillingCycle:     cycle,
		ProductCode:      c.params.Get("ProductCode"),
		SubscriptionType: st,
		BillOwnerID:      owner,
	}, at)
	data := &BillOverviewData{
		AccountID:    s.world.AccountID(),
		AccountName:  s.world.AccountName(),
		BillingCycle: cycle.String(),
	}
	data.Items.Item = nonNil(items)
	ans := successAnswer(false)
	ans.data, ans.rows = data, len(items)
	return ans, nil
}
