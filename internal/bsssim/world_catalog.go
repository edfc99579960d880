package bsssim

import "slices"

// The simulated world's fixed catalogue: regions, products, billing methods
// and the names instances are built from. Product codes, names, region IDs,
// display names and zone IDs follow the BSS and product documentation; price
// levels, commodity codes and name pools are illustrative, chosen to look like
// a real enterprise bill.

// region is one Alibaba Cloud region.
type region struct {
	id      string
	display string   // as bills print Region: "China (Hangzhou)"
	idCode  string   // the three characters resource IDs carry after the prefix ("i-bp1…")
	zones   []string // zone IDs
	ipFirst []int    // first octets of public IPs seen in the region
	weight  int      // share of instances placed here, of regionWeightTotal
	intl    int      // weight for an international-site (USD) world
}

var regions = []region{
	{"cn-hangzhou", "China (Hangzhou)", "bp1", []string{"cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"}, []int{47, 118, 121}, 34, 4},
	{"cn-shanghai", "China (Shanghai)", "uf6", []string{"cn-shanghai-l", "cn-shanghai-m", "cn-shanghai-n"}, []int{47, 106, 139}, 22, 4},
	{"cn-beijing", "China (Beijing)", "2ze", []string{"cn-beijing-g", "cn-beijing-h", "cn-beijing-i"}, []int{39, 47, 123}, 20, 2},
	{"cn-shenzhen", "China (Shenzhen)", "wz9", []string{"cn-shenzhen-d", "cn-shenzhen-e", "cn-shenzhen-f"}, []int{47, 120}, 10, 2},
	{"cn-hongkong", "China (Hong Kong)", "j6c", []string{"cn-hongkong-b", "cn-hongkong-c"}, []int{47, 8}, 6, 14},
	{"ap-southeast-1", "Singapore", "t4n", []string{"ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"}, []int{47, 8, 161}, 6, 50},
	{"eu-central-1", "Germany (Frankfurt)", "gw8", []string{"eu-central-1a", "eu-central-1b"}, []int{47, 8}, 2, 24},
}

// RegionIDs returns the region IDs the simulated world places instances in,
// in a fixed order. It and RegionDisplayName serve the collector's tests,
// which map the names bills print back to IDs (deadcode, which ignores
// tests, reports both).
func RegionIDs() []string {
	ids := make([]string, len(regions))
	for i, r := range regions {
		ids[i] = r.id
	}
	return ids
}

// RegionDisplayName returns the name bills print in Region for a region ID
// ("cn-hangzhou" → "China (Hangzhou)", as in the DescribeInstanceBill example),
// or "" for a region the world does not use.
func RegionDisplayName(id string) string {
	if i := slices.IndexFunc(regions, func(r region) bool { return r.id == id }); i >= 0 {
		return regions[i].display
	}
	return ""
}

// billingItem is one line an instance's bill splits into with IsBillingItem.
type billingItem struct {
	name, code string
	weight     int // typical share, in thousandths, before per-instance jitter
}

// spec is an instance type with its list price.
type spec struct {
	name   string
	config string
	// dailyCents is the typical pay-as-you-go gross per day in CNY cents;
	// subscriptions cost about subscriptionMonthFactor of 30 such days.
	dailyCents int64
}

// product is a cloud service as bills name it.
type product struct {
	code, name, productType, pipCode string
	commodityPAYG, commoditySub      string
	idPrefix                         string // resource ID prefix: "i-", "rm-", …
	hasZone, hasPublicIP             bool
	usageBased                       bool // daily spend swings with traffic
	items                            []billingItem
	specs                            []spec
	roles                            []string // nickname roles
}

var (
	productECS = &product{
		code: "ecs", name: "Elastic Compute Service", productType: "ecs", pipCode: "ecs",
		commodityPAYG: "ecs", commoditySub: "ecs", idPrefix: "i-",
		hasZone: true, hasPublicIP: true,
		items: []billingItem{
			{"Instance Type", "instance_type", 700},
			{"System Disk", "systemdisk", 180},
			{"Internet Bandwidth", "internet_max_bandwidth_out", 120},
		},
		specs: []spec{
			{"ecs.t6-c1m2.large", "CPU:2;Memory:4GB;Disk:40GB", 310},
			{"ecs.g7.large", "CPU:2;Memory:8GB;Disk:40GB", 1390},
			{"ecs.c7.xlarge", "CPU:4;Memory:8GB;Disk:40GB", 2210},
			{"ecs.g7.xlarge", "CPU:4;Memory:16GB;Disk:40GB", 2780},
			{"ecs.g7.2xlarge", "CPU:8;Memory:32GB;Disk:100GB", 5560},
			{"ecs.r7.2xlarge", "CPU:8;Memory:64GB;Disk:100GB", 7220},
			{"ecs.g8i.4xlarge", "CPU:16;Memory:64GB;Disk:200GB", 11630},
		},
		roles: []string{"api", "web", "worker", "batch", "gateway", "jump", "build"},
	}
	productRDS = &product{
		code: "rds", name: "ApsaraDB RDS", productType: "rds", pipCode: "rds",
		commodityPAYG: "bards", commoditySub: "rds", idPrefix: "rm-",
		hasZone: true,
		items: []billingItem{
			{"Instance Class", "db_instance_class", 820},
			{"Storage Space", "db_storage", 180},
		},
		specs: []spec{
			{"mysql.n2.medium.2c", "Engine:MySQL 8.0;CPU:2;Memory:4GB;Storage:100GB", 1870},
			{"mysql.n4.large.2c", "Engine:MySQL 8.0;CPU:4;Memory:16GB;Storage:500GB", 5420},
			{"pg.n2.2xlarge.2c", "Engine:PostgreSQL 15;CPU:8;Memory:16GB;Storage:500GB", 8130},
			{"mysql.x4.xlarge.2c", "Engine:MySQL 8.0;CPU:8;Memory:32GB;Storage:1000GB", 11980},
		},
		roles: []string{"orders-db", "users-db", "billing-db", "analytics-db"},
	}
	productOSS = &product{
		code: "oss", name: "Object Storage Service", productType: "oss", pipCode: "oss",
		commodityPAYG: "oss", commoditySub: "oss", idPrefix: "oss-",
		usageBased: true,
		items: []billingItem{
			{"Standard Storage", "storage", 610},
			{"Outbound Internet Traffic", "net_out", 330},
			{"API Requests", "requests", 60},
		},
		specs: []spec{
			{"", "Storage Class:Standard;Redundancy:LRS", 9},
			{"", "Storage Class:Standard;Redundancy:ZRS", 48},
			{"", "Storage Class:Standard;Redundancy:LRS", 160},
			{"", "Storage Class:IA;Redundancy:LRS", 320},
		},
		roles: []string{"logs", "assets", "backups", "media", "datalake", "artifacts"},
	}
	productCDN = &product{
		code: "cdn", name: "CDN", productType: "cdn", pipCode: "cdn",
		commodityPAYG: "cdn", commoditySub: "cdn", idPrefix: "cdn-",
		usageBased: true,
		items: []billingItem{
			{"Traffic (Chinese Mainland)", "flow_in_china", 880},
			{"HTTPS Requests", "https_req", 120},
		},
		specs: []spec{
			{"", "Billing Method:Pay by Traffic", 120},
			{"", "Billing Method:Pay by Traffic", 950},
			{"", "Billing Method:Pay by Bandwidth", 3600},
		},
		roles: []string{"static", "downloads", "video", "www"},
	}
	productSLB = &product{
		code: "slb", name: "Server Load Balancer", productType: "slb", pipCode: "slb",
		commodityPAYG: "slb", commoditySub: "slb_pre", idPrefix: "lb-",
		hasZone: true, hasPublicIP: true,
		items: []billingItem{
			{"Instance Fee", "instance_rent", 640},
			{"Traffic", "traffic", 360},
		},
		specs: []spec{
			{"slb.s1.small", "Specification:Small I;Network:Internet", 120},
			{"slb.s2.small", "Specification:Standard I;Network:Internet", 480},
			{"slb.s3.medium", "Specification:High-performance I;Network:Intranet", 1560},
		},
		roles: []string{"ingress", "internal-lb", "api-lb"},
	}
	productPolarDB = &product{
		code: "polardb", name: "PolarDB", productType: "polardb", pipCode: "polardb",
		commodityPAYG: "polardb_payg", commoditySub: "polardb_sub", idPrefix: "pc-",
		hasZone: true,
		items: []billingItem{
			{"Compute Node", "polar_node", 780},
			{"Storage", "polar_storage", 220},
		},
		specs: []spec{
			{"polar.mysql.x4.large", "Engine:MySQL 8.0;CPU:4;Memory:16GB;Nodes:2", 7460},
			{"polar.mysql.x4.xlarge", "Engine:MySQL 8.0;CPU:8;Memory:32GB;Nodes:2", 14920},
			{"polar.pg.x4.large", "Engine:PostgreSQL 14;CPU:4;Memory:16GB;Nodes:2", 7820},
		},
		roles: []string{"core-db", "ledger-db", "search-db"},
	}
	productKVStore = &product{
		code: "kvstore", name: "Tair (Redis OSS-Compatible)", productType: "kvstore", pipCode: "redisa",
		commodityPAYG: "kvstore_postpay_public_cn", commoditySub: "kvstore_prepaid_public_cn", idPrefix: "r-",
		hasZone: true,
		items: []billingItem{
			{"Instance Class", "instance_class", 900},
			{"Bandwidth", "bandwidth", 100},
		},
		specs: []spec{
			{"redis.master.small.default", "Engine:Redis 6.0;Memory:1GB", 620},
			{"redis.master.mid.default", "Engine:Redis 6.0;Memory:2GB", 1160},
			{"redis.master.stand.default", "Engine:Redis 7.0;Memory:4GB", 2230},
		},
		roles: []string{"cache", "session", "queue", "ratelimit"},
	}
	products = []*product{productECS, productRDS, productOSS, productCDN, productSLB, productPolarDB, productKVStore}
)

// Subscription types as bills spell them.
const (
	subscriptionPrepaid = "Subscription"
	subscriptionPAYG    = "PayAsYouGo"
)

// Bill types (the Item column).
const (
	itemSubscriptionOrder = "SubscriptionOrder"
	itemPayAsYouGo        = "PayAsYouGoBill"
	itemRefund            = "Refund"
	itemAdjustment        = "Adjustment"
)

// class is a product with a billing method: the unit QueryAccountBill groups
// by (with IsGroupByProduct) and the unit the slot pattern assigns.
type class struct {
	product *product
	sub     bool // Subscription; otherwise PayAsYouGo
	weight  int  // share among randomly drawn slots
	// zeroable classes have instances that bill exactly zero (an idle CDN
	// domain, an empty bucket), which IsHideZeroCharge hides.
	zeroable bool
}

func (c *class) subscriptionType() string {
	if c.sub {
		return subscriptionPrepaid
	}
	return subscriptionPAYG
}

func (c *class) commodityCode() string {
	if c.sub {
		return c.product.commoditySub
	}
	return c.product.commodityPAYG
}

var classes = []class{
	{productECS, false, 22, false},
	{productECS, true, 16, false},
	{productRDS, true, 8, false},
	{productRDS, false, 4, false},
	{productOSS, false, 10, true},
	{productCDN, false, 6, true},
	{productSLB, false, 8, true},
	{productSLB, true, 2, false},
	{productPolarDB, true, 4, false},
	{productPolarDB, false, 2, false},
	{productKVStore, true, 5, false},
	{productKVStore, false, 4, false},
}

var classWeightTotal = func() int {
	t := 0
	for _, c := range classes {
		t += c.weight
	}
	return t
}()

// Name pools.
var (
	memberNames = []string{
		"dev-team", "data-platform", "payments", "marketing-web", "ml-research",
		"security-ops", "mobile-apps", "infra-shared", "customer-care", "growth",
	}
	envs            = []string{"prod", "prod", "staging", "dev"}
	accountDomain   = "@example-corp.aliyunid.com"
	payerName       = "finance"
	defaultRG       = "Default resource group"
	notAllocated    = "Not allocated"
	bucketPurposes  = []string{"logs", "assets", "backups", "media", "datalake", "artifacts", "exports"}
	privateNetworks = []string{"172.16.", "172.20.", "192.168.", "10.0."}
)
