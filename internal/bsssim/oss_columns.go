package bsssim

// The columns of the bill files BSS writes to OSS, in one table.
//
// INFERRED, all of it: the column names and their order are the
// simulator's reading of Alibaba's description of subscribed bill files
// (SubscribeBillToOSS,
// https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-subscribebilltooss,
// which names the files but not their headers) and of the User Center's
// bill-detail export, written from memory: the exact headers are not in
// the project's notes and were not checked against a real file. The values are exactly what the API row of
// the same bill carries (DescribeInstanceBill, DescribeSplitItemBill), API
// codes included ("PayAsYouGo", "PayAsYouGoBill"), so a reader can join
// the two. A wrong name is fixed here, in one line, and nowhere else.

// fileKind is a file's row layout: which API view and granularity its rows
// are, and so which columns it has.
type fileKind uint8

const (
	kindInstanceDaily      fileKind = 1 << iota // InstanceDetail_YYYYMMDD
	kindInstanceMonthly                         // InstanceDetail_YYYYMM, InstanceDetailMonthly_YYYYMM
	kindBillingItemDaily                        // BillingItemDetail_YYYYMMDD
	kindBillingItemMonthly                      // BillingItemDetail_YYYYMM, BillingItemDetailMonthly_YYYYMM
	kindSplitDaily                              // SplitItemDetailDaily_YYYYMM: the month's DAILY split rows

	kindsInstance     = kindInstanceDaily | kindInstanceMonthly
	kindsBillingItem  = kindBillingItemDaily | kindBillingItemMonthly
	kindsDaily        = kindInstanceDaily | kindBillingItemDaily | kindSplitDaily
	kindsInstanceRows = kindsInstance | kindsBillingItem // DescribeInstanceBill rows
	kindsAll          = kindsInstanceRows | kindSplitDaily
)

// fileRow is one row of any file, its fields taken from the API row.
type fileRow struct {
	cycle, date, billAccount, owner                          string
	productCode, productName, subscriptionType, item         string
	instanceID, nick, region, zone                           string
	billingItem, billingItemCode, splitItemID, splitItemName string
	resourceGroup, costUnit, tag, currency                   string
	amounts                                                  Amounts
}

// fileColumn is one column: its header in each subscription language, the
// files that carry it and how a row's value is written.
type fileColumn struct {
	zh, en string
	kinds  fileKind
	text   func(*fileRow) string // nil for a money column
	money  func(*fileRow) Money
}

func (c *fileColumn) name(lang string) string {
	if lang == "zh" {
		return c.zh
	}
	return c.en
}

// fileColumns is the table (INFERRED, see above).
var fileColumns = []fileColumn{
	{zh: "账期", en: "Billing Cycle", kinds: kindsAll, text: func(r *fileRow) string { return r.cycle }},
	{zh: "账单日期", en: "Billing Date", kinds: kindsDaily, text: func(r *fileRow) string { return r.date }},
	{zh: "账单账号ID", en: "Bill Account ID", kinds: kindsAll, text: func(r *fileRow) string { return r.billAccount }},
	{zh: "账号ID", en: "Account ID", kinds: kindsAll, text: func(r *fileRow) string { return r.owner }},
	{zh: "产品Code", en: "Product Code", kinds: kindsAll, text: func(r *fileRow) string { return r.productCode }},
	{zh: "产品", en: "Product", kinds: kindsAll, text: func(r *fileRow) string { return r.productName }},
	{zh: "消费类型", en: "Subscription Type", kinds: kindsAll, text: func(r *fileRow) string { return r.subscriptionType }},
	{zh: "账单类型", en: "Bill Type", kinds: kindsAll, text: func(r *fileRow) string { return r.item }},
	{zh: "实例ID", en: "Instance ID", kinds: kindsAll, text: func(r *fileRow) string { return r.instanceID }},
	{zh: "实例昵称", en: "Instance Nickname", kinds: kindsInstanceRows, text: func(r *fileRow) string { return r.nick }},
	{zh: "分拆项ID", en: "Split Item ID", kinds: kindSplitDaily, text: func(r *fileRow) string { return r.splitItemID }},
	{zh: "分拆项名称", en: "Split Item Name", kinds: kindSplitDaily, text: func(r *fileRow) string { return r.splitItemName }},
	{zh: "计费项", en: "Billing Item", kinds: kindsBillingItem | kindSplitDaily, text: func(r *fileRow) string { return r.billingItem }},
	{zh: "计费项Code", en: "Billing Item Code", kinds: kindsBillingItem | kindSplitDaily, text: func(r *fileRow) string { return r.billingItemCode }},
	{zh: "地域", en: "Region", kinds: kindsAll, text: func(r *fileRow) string { return r.region }},
	{zh: "可用区", en: "Zone", kinds: kindsAll, text: func(r *fileRow) string { return r.zone }},
	{zh: "资源组", en: "Resource Group", kinds: kindsInstanceRows, text: func(r *fileRow) string { return r.resourceGroup }},
	{zh: "财务单元", en: "Cost Unit", kinds: kindsAll, text: func(r *fileRow) string { return r.costUnit }},
	{zh: "实例标签", en: "Instance Tag", kinds: kindsAll, text: func(r *fileRow) string { return r.tag }},
	{zh: "原价", en: "Pretax Gross Amount", kinds: kindsAll, money: func(r *fileRow) Money { return r.amounts.PretaxGrossAmount }},
	{zh: "优惠金额", en: "Discount", kinds: kindsAll, money: func(r *fileRow) Money { return r.amounts.InvoiceDiscount }},
	{zh: "优惠券抵扣", en: "Deducted By Coupons", kinds: kindsAll, money: func(r *fileRow) Money { return r.amounts.DeductedByCoupons }},
	{zh: "代金券抵扣", en: "Deducted By Cash Coupons", kinds: kindsAll, money: func(r *fileRow) Money { return r.amounts.DeductedByCashCoupons }},
	{zh: "储值卡抵扣", en: "Deducted By Prepaid Card", kinds: kindsAll, money: func(r *fileRow) Money { return r.amounts.DeductedByPrepaidCard }},
	{zh: "应付金额", en: "Payable Amount", kinds: kindsAll, money: func(r *fileRow) Money { return r.amounts.PretaxAmount }},
	{zh: "现金支付", en: "Payment Amount", kinds: kindsAll, money: func(r *fileRow) Money { return r.amounts.PaymentAmount }},
	{zh: "欠费金额", en: "Outstanding Amount", kinds: kindsAll, money: func(r *fileRow) Money { return r.amounts.OutstandingAmount }},
	{zh: "币种", en: "Currency", kinds: kindsAll, text: func(r *fileRow) string { return r.currency }},
}

// columnsOf returns the columns of a file kind, in order, without the
// named one (the drop-column fault; "" drops nothing).
func columnsOf(k fileKind, lang, drop string) []*fileColumn {
	var out []*fileColumn
	for i := range fileColumns {
		c := &fileColumns[i]
		if c.kinds&k != 0 && (drop == "" || c.name(lang) != drop) {
			out = append(out, c)
		}
	}
	return out
}

func instanceFileRow(it *InstanceBillItem, cycle string) fileRow {
	return fileRow{
		cycle: cycle, date: it.BillingDate, billAccount: it.BillAccountID, owner: it.OwnerID,
		productCode: it.ProductCode, productName: it.ProductName, subscriptionType: it.SubscriptionType, item: it.Item,
		instanceID: it.InstanceID, nick: it.NickName, region: it.Region, zone: it.Zone,
		billingItem: it.BillingItem, billingItemCode: it.BillingItemCode,
		resourceGroup: it.ResourceGroup, costUnit: it.CostUnit, tag: it.Tag, currency: it.Currency,
		amounts: it.Amounts,
	}
}

func splitFileRow(it *SplitItemBillItem) fileRow {
	return fileRow{
		cycle: it.SplitBillingCycle, date: it.BillingDate, billAccount: it.BillAccountID, owner: it.OwnerID,
		productCode: it.ProductCode, productName: it.ProductName, subscriptionType: it.SubscriptionType, item: it.Item,
		instanceID: it.InstanceID, region: it.Region, zone: it.Zone,
		billingItem: it.BillingItem, billingItemCode: it.BillingItemCode,
		splitItemID: it.SplitItemID, splitItemName: it.SplitItemName,
		costUnit: it.CostUnit, tag: it.Tag, currency: it.Currency,
		amounts: it.Amounts,
	}
}
