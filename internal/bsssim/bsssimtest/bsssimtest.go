// Package bsssimtest lets tests of the client and the collectors ask the
// simulator's World in the client's own types. The simulator itself never
// imports bssclient, so that it judges the client instead of sharing its
// code; this package is the one place where the two meet, and it converts
// only through what BSS puts on the wire (JSON and decimal text), so a
// conversion that works here is one the client's decoder accepts.
//
// Only tests call this package, so deadcode (which ignores tests) reports
// all of it as unreachable; that is expected.
package bsssimtest

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// World is a simulated account's billing data, asked in bssclient's types.
// Every other method is the embedded World's.
type World struct {
	*bsssim.World
}

// Wrap returns w asked in bssclient's types.
func Wrap(w *bsssim.World) World { return World{w} }

// NewWorld builds a world, as bsssim.NewWorld does.
func NewWorld(cfg bsssim.WorldConfig) (World, error) {
	w, err := bsssim.NewWorld(cfg)
	return World{w}, err
}

// TruthQuery selects what Truth sums; see bsssim.TruthQuery.
type TruthQuery struct {
	Cycle bssclient.Cycle
	Day   bssclient.Day // zero: the whole cycle
	// "" matches anything. Region is a region ID ("cn-hangzhou").
	OwnerID, ProductCode, SubscriptionType, Region string
	// SplitItemID filters split-bill rows; only with Kind == KindSplitItems.
	SplitItemID string
	// Kind picks the API whose view is summed.
	Kind bssclient.DataKind
}

// Truth is the exact sum of what the chosen API shows at at; see
// bsssim.World.Truth.
func (w World) Truth(q TruthQuery, at time.Time) bssclient.Amounts {
	return viaJSON[bssclient.Amounts](w.World.Truth(bsssim.TruthQuery{
		Cycle: cycle(q.Cycle), Day: day(q.Day), OwnerID: q.OwnerID, ProductCode: q.ProductCode,
		SubscriptionType: q.SubscriptionType, Region: q.Region, SplitItemID: q.SplitItemID, Kind: kind(q.Kind),
	}, at))
}

// AccountBill is every QueryAccountBill row at at.
func (w World) AccountBill(req bssclient.AccountBillRequest, at time.Time) []bssclient.AccountBillItem {
	return viaJSON[[]bssclient.AccountBillItem](w.World.AccountBill(bsssim.AccountBillRequest{
		BillingCycle: cycle(req.BillingCycle), Granularity: bsssim.Granularity(req.Granularity),
		BillingDate: day(req.BillingDate), IsGroupByProduct: req.IsGroupByProduct,
		ProductCode: req.ProductCode, BillOwnerID: req.BillOwnerID,
	}, at))
}

func instanceRequest(req bssclient.InstanceBillRequest) bsssim.InstanceBillRequest {
	return bsssim.InstanceBillRequest{
		BillingCycle: cycle(req.BillingCycle), Granularity: bsssim.Granularity(req.Granularity),
		BillingDate: day(req.BillingDate), IsBillingItem: req.IsBillingItem, IsHideZeroCharge: req.IsHideZeroCharge,
		ProductCode: req.ProductCode, SubscriptionType: req.SubscriptionType, InstanceID: req.InstanceID,
		BillOwnerID: req.BillOwnerID,
	}
}

// InstanceBillCount is the instance bill's TotalCount at at.
func (w World) InstanceBillCount(req bssclient.InstanceBillRequest, at time.Time) int {
	return w.World.InstanceBillCount(instanceRequest(req), at)
}

// InstanceBillRows returns rows [offset, offset+limit) of the instance bill at at.
func (w World) InstanceBillRows(req bssclient.InstanceBillRequest, at time.Time, offset, limit int) []bssclient.InstanceBillItem {
	return viaJSON[[]bssclient.InstanceBillItem](w.World.InstanceBillRows(instanceRequest(req), at, offset, limit))
}

func splitRequest(req bssclient.SplitItemBillRequest) bsssim.SplitItemBillRequest {
	return bsssim.SplitItemBillRequest{
		BillingCycle: cycle(req.BillingCycle), Granularity: bsssim.Granularity(req.Granularity),
		BillingDate: day(req.BillingDate), IsHideZeroCharge: req.IsHideZeroCharge,
		ProductCode: req.ProductCode, SubscriptionType: req.SubscriptionType, InstanceID: req.InstanceID,
		SplitItemID: req.SplitItemID, BillOwnerID: req.BillOwnerID,
	}
}

// SplitItemBillCount is the split bill's TotalCount at at.
func (w World) SplitItemBillCount(req bssclient.SplitItemBillRequest, at time.Time) int {
	return w.World.SplitItemBillCount(splitRequest(req), at)
}

// SplitItemBillRows returns rows [offset, offset+limit) of the split bill at at.
func (w World) SplitItemBillRows(req bssclient.SplitItemBillRequest, at time.Time, offset, limit int) []bssclient.SplitItemBillItem {
	return viaJSON[[]bssclient.SplitItemBillItem](w.World.SplitItemBillRows(splitRequest(req), at, offset, limit))
}

// Subscriptions is QueryBillToOSSSubscription's rows.
func (w World) Subscriptions() []bssclient.BillSubscription {
	return viaJSON[[]bssclient.BillSubscription](w.World.Subscriptions())
}

// Balance is QueryAccountBalance's answer at at.
func (w World) Balance(at time.Time) bssclient.AccountBalance {
	return viaJSON[bssclient.AccountBalance](w.World.Balance(at))
}

func day(d bssclient.Day) bsssim.Day { return bsssim.Day{Year: d.Year, Month: d.Month, Day: d.Day} }

func cycle(c bssclient.Cycle) bsssim.Cycle { return bsssim.Cycle{Year: c.Year, Month: c.Month} }

var kinds = map[bssclient.DataKind]bsssim.DataKind{
	bssclient.KindAmounts:            bsssim.KindAmounts,
	bssclient.KindInstanceAttributes: bsssim.KindInstanceAttributes,
	bssclient.KindSplitItems:         bsssim.KindSplitItems,
	bssclient.KindAmortized:          bsssim.KindAmortized,
}

func kind(k bssclient.DataKind) bsssim.DataKind {
	if v, ok := kinds[k]; ok {
		return v
	}
	panic(fmt.Sprintf("bsssimtest: unknown data kind %v", k))
}

// viaJSON converts the simulator's rows to the client's the way they travel:
// encoded by the simulator's wire types, decoded by the client's.
func viaJSON[T any](rows any) T {
	var out T
	b, err := json.Marshal(rows)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		panic(fmt.Sprintf("bsssimtest: the client's types cannot read the simulator's rows: %v", err))
	}
	return out
}
