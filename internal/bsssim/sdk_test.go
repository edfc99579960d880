package bsssim_test

// The simulator's acceptance test: Alibaba's official SDKs call it for every
// served action, as a user of them would, and parse its answers; a wrong
// secret is refused. Three clients, three code paths:
//   - the classic github.com/aliyun/alibaba-cloud-sdk-go bssopenapi client
//     (V1 signature, typed responses);
//   - github.com/alibabacloud-go/darabonba-openapi/v2 in its default V3 mode
//     (ACS3-HMAC-SHA256) and in V1 mode (SignatureAlgorithm "v2").
// Both SDKs send x-acs-action with V1 requests too, which is why the
// simulator tells the signatures apart by what a request is signed with.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/bssopenapi"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

var (
	sdkBillingNow = time.Date(2024, time.June, 10, 12, 0, 0, 0, time.FixedZone("UTC+8", 8*3600))
	sdkDay        = bsssim.Day{Year: 2024, Month: time.May, Day: 20}
)

// sdkAnswers is what a client read from the simulator, action by action.
type sdkAnswers struct {
	accountRows, instanceRows, queryInstanceRows, splitRows, subscriptions int
	instancePages, splitPages                                              int
	available                                                              string
}

func startSDKSim(t *testing.T) (*bsssim.Running, *bsssim.World) {
	t.Helper()
	world, err := bsssim.NewWorld(bsssim.WorldConfig{Seed: 5, Owners: 2, InstancesPerOwner: 300, SplitBillEnabled: true})
	if err != nil {
		t.Fatal(err)
	}
	run, err := bsssim.Start(bsssim.Config{World: world, Clock: bsssim.NewManualClock(sdkBillingNow), QuotaPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run.Close() })
	return run, world
}

// want is what the World says every client must read.
func want(w *bsssim.World) sdkAnswers {
	instance := bsssim.InstanceBillRequest{BillingCycle: sdkDay.Cycle(), Granularity: bsssim.Daily, BillingDate: sdkDay}
	split := bsssim.SplitItemBillRequest{BillingCycle: sdkDay.Cycle(), Granularity: bsssim.Daily, BillingDate: sdkDay}
	n := w.InstanceBillCount(instance, sdkBillingNow)
	s := w.SplitItemBillCount(split, sdkBillingNow)
	return sdkAnswers{
		accountRows: len(w.AccountBill(bsssim.AccountBillRequest{BillingCycle: sdkDay.Cycle(), Granularity: bsssim.Daily,
			BillingDate: sdkDay, IsGroupByProduct: true}, sdkBillingNow)),
		instanceRows: n, queryInstanceRows: n, splitRows: s,
		instancePages: (n + 299) / 300, splitPages: (s + 299) / 300,
		subscriptions: len(w.Subscriptions()),
		available:     w.Balance(sdkBillingNow).AvailableAmount.String(),
	}
}

func TestOfficialSDKsCallEveryAction(t *testing.T) {
	run, world := startSDKSim(t)
	expected := want(world)
	if expected.instancePages < 2 || expected.splitPages < 2 {
		t.Fatalf("the world's day fits in one page (%+v); the test would not page with NextToken", expected)
	}
	for _, c := range []struct {
		name string
		read func(t *testing.T, run *bsssim.Running, secret string) (sdkAnswers, error)
	}{
		{"alibaba-cloud-sdk-go bssopenapi V1", readClassic},
		{"darabonba-openapi V3", func(t *testing.T, run *bsssim.Running, secret string) (sdkAnswers, error) {
			return readDarabonba(t, run, secret, "")
		}},
		{"darabonba-openapi V1", func(t *testing.T, run *bsssim.Running, secret string) (sdkAnswers, error) {
			return readDarabonba(t, run, secret, "v2")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.read(t, run, bsssim.TestAccessKeySecret)
			if err != nil {
				t.Fatal(err)
			}
			if got != expected {
				t.Errorf("read\n got %+v\nwant %+v", got, expected)
			}
			_, err = c.read(t, run, "NotTheSecret")
			if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
				t.Errorf("a wrong secret: got %v, want SignatureDoesNotMatch", err)
			}
		})
	}
}

// readClassic calls every action with the classic SDK's typed requests and
// reads its typed responses. It stops at the first error.
func readClassic(t *testing.T, run *bsssim.Running, secret string) (sdkAnswers, error) {
	t.Helper()
	client, err := bssopenapi.NewClientWithAccessKey("cn-hangzhou", bsssim.TestAccessKeyID, secret)
	if err != nil {
		t.Fatal(err)
	}
	client.SetReadTimeout(10 * time.Second)
	at := func(r *requests.RpcRequest) {
		r.Scheme, r.Domain = "http", run.Host
	}
	var a sdkAnswers

	ab := bssopenapi.CreateQueryAccountBillRequest()
	at(ab.RpcRequest)
	ab.BillingCycle, ab.Granularity, ab.BillingDate = sdkDay.Cycle().String(), "DAILY", sdkDay.String()
	ab.IsGroupByProduct, ab.PageSize = requests.NewBoolean(true), requests.NewInteger(300)
	abr, err := client.QueryAccountBill(ab)
	if err != nil {
		return a, classicError(err)
	}
	a.accountRows = len(abr.Data.Items.Item)
	if abr.Data.TotalCount != a.accountRows || abr.Data.Items.Item[0].OwnerID == "" {
		return a, fmt.Errorf("QueryAccountBill parsed as %+v", abr.Data)
	}

	for token := ""; ; {
		r := bssopenapi.CreateDescribeInstanceBillRequest()
		at(r.RpcRequest)
		r.BillingCycle, r.Granularity, r.BillingDate = sdkDay.Cycle().String(), "DAILY", sdkDay.String()
		r.MaxResults, r.NextToken = requests.NewInteger(300), token
		resp, err := client.DescribeInstanceBill(r)
		if err != nil {
			return a, classicError(err)
		}
		a.instanceRows += len(resp.Data.Items)
		a.instancePages++
		if token = resp.Data.NextToken; token == "" {
			break
		}
	}

	for page := 1; ; page++ {
		r := bssopenapi.CreateQueryInstanceBillRequest()
		at(r.RpcRequest)
		r.BillingCycle, r.Granularity, r.BillingDate = sdkDay.Cycle().String(), "DAILY", sdkDay.String()
		r.PageNum, r.PageSize = requests.NewInteger(page), requests.NewInteger(300)
		resp, err := client.QueryInstanceBill(r)
		if err != nil {
			return a, classicError(err)
		}
		a.queryInstanceRows += len(resp.Data.Items.Item)
		if len(resp.Data.Items.Item) == 0 || a.queryInstanceRows >= resp.Data.TotalCount {
			break
		}
	}

	for token := ""; ; {
		r := bssopenapi.CreateDescribeSplitItemBillRequest()
		at(r.RpcRequest)
		r.BillingCycle, r.Granularity, r.BillingDate = sdkDay.Cycle().String(), "DAILY", sdkDay.String()
		r.MaxResults, r.NextToken = requests.NewInteger(300), token
		resp, err := client.DescribeSplitItemBill(r)
		if err != nil {
			return a, classicError(err)
		}
		a.splitRows += len(resp.Data.Items)
		a.splitPages++
		if token = resp.Data.NextToken; token == "" {
			break
		}
	}

	sr := bssopenapi.CreateQueryBillToOSSSubscriptionRequest()
	at(sr.RpcRequest)
	subs, err := client.QueryBillToOSSSubscription(sr)
	if err != nil {
		return a, classicError(err)
	}
	a.subscriptions = len(subs.Data.Items.Item)

	br := bssopenapi.CreateQueryAccountBalanceRequest()
	at(br.RpcRequest)
	bal, err := client.QueryAccountBalance(br)
	if err != nil {
		return a, classicError(err)
	}
	a.available = bal.Data.AvailableAmount
	return a, nil
}

func classicError(err error) error {
	if se, ok := err.(*errors.ServerError); ok {
		return fmt.Errorf("%s: %s", se.ErrorCode(), se.Message())
	}
	return err
}

// readDarabonba calls every action through darabonba's generic CallApi, as
// the generated bssopenapi-20171214 client does, and reads the JSON body.
// signatureAlgorithm "v2" selects the V1 signature; "" the default V3.
func readDarabonba(t *testing.T, run *bsssim.Running, secret, signatureAlgorithm string) (sdkAnswers, error) {
	t.Helper()
	cfg := &openapiutil.Config{
		AccessKeyId:     dara.String(bsssim.TestAccessKeyID),
		AccessKeySecret: dara.String(secret),
		Endpoint:        dara.String(run.Host),
		Protocol:        dara.String("http"),
	}
	if signatureAlgorithm != "" {
		cfg.SignatureAlgorithm = dara.String(signatureAlgorithm)
	}
	client, err := openapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	call := func(action string, query map[string]string) (map[string]any, error) {
		q := map[string]*string{}
		for k, v := range query {
			q[k] = dara.String(v)
		}
		params := &openapiutil.Params{
			Action: dara.String(action), Version: dara.String("2017-12-14"), Protocol: dara.String("HTTP"),
			Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"),
			Style: dara.String("RPC"), ReqBodyType: dara.String("formData"), BodyType: dara.String("json"),
		}
		res, err := client.CallApi(params, &openapiutil.OpenApiRequest{Query: q}, &dara.RuntimeOptions{})
		if err != nil {
			return nil, err
		}
		// Decode the body again by its own JSON, as a typed client would.
		raw, err := json.Marshal(res["body"])
		if err != nil {
			return nil, err
		}
		var body struct {
			Code    string
			Success bool
			Data    map[string]any
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			return nil, err
		}
		if body.Data == nil {
			return nil, fmt.Errorf("%s: no Data in %s", action, raw)
		}
		return body.Data, nil
	}
	day := map[string]string{"BillingCycle": sdkDay.Cycle().String(), "Granularity": "DAILY", "BillingDate": sdkDay.String()}
	with := func(extra ...string) map[string]string {
		m := map[string]string{}
		for k, v := range day {
			m[k] = v
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	var a sdkAnswers
	data, err := call("QueryAccountBill", with("IsGroupByProduct", "true", "PageSize", "300"))
	if err != nil {
		return a, err
	}
	a.accountRows = len(items(data, "Item"))

	walk := func(action string) (rows, pages int, err error) {
		for token := ""; ; {
			data, err := call(action, with("MaxResults", "300", "NextToken", token))
			if err != nil {
				return rows, pages, err
			}
			rows += len(items(data, ""))
			pages++
			if token, _ = data["NextToken"].(string); token == "" {
				return rows, pages, nil
			}
		}
	}
	if a.instanceRows, a.instancePages, err = walk("DescribeInstanceBill"); err != nil {
		return a, err
	}
	for page := 1; ; page++ {
		data, err := call("QueryInstanceBill", with("PageNum", strconv.Itoa(page), "PageSize", "300"))
		if err != nil {
			return a, err
		}
		n := len(items(data, "Item"))
		a.queryInstanceRows += n
		if total, _ := data["TotalCount"].(float64); n == 0 || a.queryInstanceRows >= int(total) {
			break
		}
	}
	if a.splitRows, a.splitPages, err = walk("DescribeSplitItemBill"); err != nil {
		return a, err
	}
	if data, err = call("QueryBillToOSSSubscription", nil); err != nil {
		return a, err
	}
	a.subscriptions = len(items(data, "Item"))
	if data, err = call("QueryAccountBalance", nil); err != nil {
		return a, err
	}
	a.available, _ = data["AvailableAmount"].(string)
	return a, nil
}

// items returns Data.Items (a plain array) or Data.Items.<wrapper>.
func items(data map[string]any, wrapper string) []any {
	v := data["Items"]
	if wrapper != "" {
		m, _ := v.(map[string]any)
		v = m[wrapper]
	}
	list, _ := v.([]any)
	return list
}
