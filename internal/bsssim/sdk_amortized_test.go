package bsssim_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
)

// TestOfficialSDKReadsAmortizedCost: darabonba-openapi, signing V3 and V1,
// walks both amortized-cost actions by NextToken and reads every row the
// World has; a wrong secret is refused as for every other action. (The
// classic SDK's typed response shares one Data struct whose Items belong to
// another action, so it cannot read these rows.)
func TestOfficialSDKReadsAmortizedCost(t *testing.T) {
	run, world := startSDKSim(t)
	may := bsssim.Cycle{Year: 2024, Month: time.May}
	for _, alg := range []string{"", "v2"} {
		for _, perInstance := range []bool{false, true} {
			action := "DescribeProductAmortizedCostByAmortizationPeriod"
			if perInstance {
				action = "DescribeInstanceAmortizedCostByAmortizationPeriod"
			}
			want := world.AmortizedCost(may, perInstance, sdkBillingNow)
			rows, pages, err := walkAmortizedSDK(t, run, bsssim.TestAccessKeySecret, alg, action, may.String())
			if err != nil {
				t.Fatalf("%s (%q): %v", action, alg, err)
			}
			if rows != len(want) || (perInstance && pages < 2) {
				t.Errorf("%s (%q): %d rows in %d pages, the world has %d (want more than one page per instance)", action, alg, rows, pages, len(want))
			}
			if _, _, err := walkAmortizedSDK(t, run, "NotTheSecret", alg, action, may.String()); err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
				t.Errorf("%s (%q) with a wrong secret: %v, want SignatureDoesNotMatch", action, alg, err)
			}
		}
	}
}

func walkAmortizedSDK(t *testing.T, run *bsssim.Running, secret, alg, action, cycle string) (rows, pages int, err error) {
	t.Helper()
	cfg := &openapiutil.Config{
		AccessKeyId: dara.String(bsssim.TestAccessKeyID), AccessKeySecret: dara.String(secret),
		Endpoint: dara.String(run.Host), Protocol: dara.String("http"),
	}
	if alg != "" {
		cfg.SignatureAlgorithm = dara.String(alg)
	}
	client, err := openapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	params := &openapiutil.Params{
		Action: dara.String(action), Version: dara.String("2017-12-14"), Protocol: dara.String("HTTP"),
		Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"),
		Style: dara.String("RPC"), ReqBodyType: dara.String("formData"), BodyType: dara.String("json"),
	}
	for token := ""; ; {
		q := map[string]*string{"BillingCycle": dara.String(cycle), "MaxResults": dara.String("300")}
		if token != "" {
			q["NextToken"] = dara.String(token)
		}
		res, err := client.CallApi(params, &openapiutil.OpenApiRequest{Query: q}, &dara.RuntimeOptions{})
		if err != nil {
			return rows, pages, err
		}
		raw, _ := json.Marshal(res["body"])
		var body struct {
			Data struct {
				NextToken string
				Items     []map[string]any
			}
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			return rows, pages, err
		}
		rows += len(body.Data.Items)
		pages++
		if token = body.Data.NextToken; token == "" {
			return rows, pages, nil
		}
	}
}
