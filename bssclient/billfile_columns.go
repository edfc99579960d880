package bssclient

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// The columns of the bill files BSS writes to OSS, in one table.
//
// INFERRED, all of it: SubscribeBillToOSS
// (https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-subscribebilltooss)
// names the files but not their headers. The names below are the best
// guess available, from the User Center's bill-detail export
// (https://www.alibabacloud.com/help/en/user-center/user-guide/how-to-manage-bills),
// not checked against a real subscribed file. A wrong name is a one-line
// fix here and nowhere else. Values are expected to be what the API row of
// the same bill carries (API codes such as "PayAsYouGo"), so that rows
// decode into the API's row types unchanged.
//
// field is the Go field the column fills, looked up by name in the row
// type (InstanceBillItem or SplitItemBillItem, Amounts promoted): a column
// whose field the row type lacks is ignored for that type. Whether a
// column is needed is not decided here but by the same rule the API's
// tolerant reader uses (neededFields, every Money): one table of what a
// published number depends on.
var billFileColumns = []billFileColumn{
	{zh: "账期", en: "Billing Cycle", field: "SplitBillingCycle"},
	{zh: "账单日期", en: "Billing Date", field: "BillingDate"},
	{zh: "账单账号ID", en: "Bill Account ID", field: "BillAccountID"},
	{zh: "账号ID", en: "Account ID", field: "OwnerID"},
	{zh: "产品Code", en: "Product Code", field: "ProductCode"},
	{zh: "产品", en: "Product", field: "ProductName"},
	{zh: "消费类型", en: "Subscription Type", field: "SubscriptionType"},
	{zh: "账单类型", en: "Bill Type", field: "Item"},
	{zh: "实例ID", en: "Instance ID", field: "InstanceID"},
	{zh: "实例昵称", en: "Instance Nickname", field: "NickName"},
	{zh: "分拆项ID", en: "Split Item ID", field: "SplitItemID"},
	{zh: "分拆项名称", en: "Split Item Name", field: "SplitItemName"},
	{zh: "计费项", en: "Billing Item", field: "BillingItem"},
	{zh: "计费项Code", en: "Billing Item Code", field: "BillingItemCode"},
	{zh: "地域", en: "Region", field: "Region"},
	{zh: "可用区", en: "Zone", field: "Zone"},
	{zh: "资源组", en: "Resource Group", field: "ResourceGroup"},
	{zh: "财务单元", en: "Cost Unit", field: "CostUnit"},
	{zh: "实例标签", en: "Instance Tag", field: "Tag"},
	{zh: "原价", en: "Pretax Gross Amount", field: "PretaxGrossAmount"},
	{zh: "优惠金额", en: "Discount", field: "InvoiceDiscount"},
	{zh: "优惠券抵扣", en: "Deducted By Coupons", field: "DeductedByCoupons"},
	{zh: "代金券抵扣", en: "Deducted By Cash Coupons", field: "DeductedByCashCoupons"},
	{zh: "储值卡抵扣", en: "Deducted By Prepaid Card", field: "DeductedByPrepaidCard"},
	{zh: "应付金额", en: "Payable Amount", field: "PretaxAmount"},
	{zh: "现金支付", en: "Payment Amount", field: "PaymentAmount"},
	{zh: "欠费金额", en: "Outstanding Amount", field: "OutstandingAmount"},
	{zh: "币种", en: "Currency", field: "Currency"},
}

// billFileColumn is one column: its header in each subscription language
// and the row field it fills.
type billFileColumn struct {
	zh, en string
	field  string
}

// normalizeHeader folds what a header may vary in without meaning
// something else: a UTF-8 byte-order mark (Excel writes one), surrounding
// and repeated spaces, and case.
func normalizeHeader(s string) string {
	s = strings.TrimPrefix(s, "\uFEFF")
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// billFileColumnByHeader finds a table column by either language's name.
var billFileColumnByHeader = sync.OnceValue(func() map[string]*billFileColumn {
	m := make(map[string]*billFileColumn, 2*len(billFileColumns))
	for i := range billFileColumns {
		c := &billFileColumns[i]
		m[normalizeHeader(c.zh)] = c
		m[normalizeHeader(c.en)] = c
	}
	return m
})

// boundColumn is a table column found in a file's header, bound to a row
// type's field.
type boundColumn struct {
	record int   // index in the CSV record
	field  []int // reflect index path in the row type
	money  bool
	name   string // the header as the file writes it, for errors
}

// fileLayout says what a file's rows are, which decides the columns it
// must have.
type fileLayout struct {
	// dailyRows: each row is one day's (a _YYYYMMDD file, or the split
	// file's month of daily rows), so the Billing Date column is needed.
	dailyRows bool
}

// bindColumns maps a header to the fields of row type t. A column the row
// needs but the header lacks is an error naming it; columns the table does
// not know, or t has no field for, are skipped.
func bindColumns(header []string, t reflect.Type, layout fileLayout) ([]boundColumn, error) {
	byHeader := billFileColumnByHeader()
	var bound []boundColumn
	seen := make(map[*billFileColumn]bool, len(header))
	for i, h := range header {
		c := byHeader[normalizeHeader(h)]
		if c == nil || seen[c] {
			continue
		}
		f, ok := t.FieldByName(c.field)
		if !ok {
			continue
		}
		seen[c] = true
		bound = append(bound, boundColumn{record: i, field: f.Index, money: f.Type == moneyType, name: strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))})
	}
	for i := range billFileColumns {
		c := &billFileColumns[i]
		if !seen[c] && columnNeeded(t, c, layout) {
			return nil, fmt.Errorf("header lacks the column %q (%s): %w", c.zh, c.en, ErrBillFileColumnMissing)
		}
	}
	return bound, nil
}

// columnNeeded applies the tolerant reader's rule (neededFields and every
// amount) to a column of row type t; a MONTHLY row has no billing date.
func columnNeeded(t reflect.Type, c *billFileColumn, layout fileLayout) bool {
	f, ok := t.FieldByName(c.field)
	switch {
	case !ok:
		return false
	case c.field == "BillingDate":
		return layout.dailyRows
	case f.Type == moneyType:
		return true
	}
	return neededFields[t.Name()+"."+c.field]
}

// AmountsNotInBillFiles names the Amounts fields bill files do not carry
// (no column of the INFERRED table fills them): rows read from files hold
// zero there, which is no answer, so a caller must not publish those
// amounts from files.
func AmountsNotInBillFiles() []string {
	var out []string
	t := reflect.TypeFor[Amounts]()
	for i := range t.NumField() {
		name := t.Field(i).Name
		if !slices.ContainsFunc(billFileColumns, func(c billFileColumn) bool { return c.field == name }) {
			out = append(out, name)
		}
	}
	return out
}
