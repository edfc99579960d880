package collector

import "cmp"

// FOCUS (the FinOps Open Cost and Usage Specification) is the vocabulary
// cost tools share; docs/metrics.md maps every money family and label to
// its columns. Its ServiceCategory groups services by their core function,
// from a fixed list of values
// (https://github.com/FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec/blob/main/specification/columns/servicecategory.md).

// serviceCategories maps BSS product codes to FOCUS ServiceCategory values,
// for the products Alibaba Cloud bills most. A code not listed is "Other",
// as FOCUS asks for a service that fits no category; add it here.
var serviceCategories = map[string]string{
	// Compute: virtual machines, containers, serverless.
	"ecs": "Compute", "ack": "Compute", "cs": "Compute", "eci": "Compute", "fc": "Compute",
	"sae": "Compute", "ehpc": "Compute", "ebm": "Compute",
	// Storage.
	"oss": "Storage", "nas": "Storage", "ebs": "Storage", "disk": "Storage", "snapshot": "Storage",
	"hbr": "Storage", "cpfs": "Storage", "dbfs": "Storage",
	// Databases.
	"rds": "Databases", "polardb": "Databases", "kvstore": "Databases", "redisa": "Databases",
	"dds": "Databases", "mongodb": "Databases", "hbase": "Databases", "lindorm": "Databases",
	"gpdb": "Databases", "clickhouse": "Databases", "dts": "Databases", "pts": "Databases",
	// Analytics.
	"odps": "Analytics", "maxcompute": "Analytics", "adb": "Analytics", "emr": "Analytics",
	"dataworks": "Analytics", "elasticsearch": "Analytics", "hologres": "Analytics", "quickbi": "Analytics",
	"sls": "Analytics", "log": "Analytics",
	// Networking.
	"slb": "Networking", "alb": "Networking", "nlb": "Networking", "cdn": "Networking", "dcdn": "Networking",
	"eip": "Networking", "cbwp": "Networking", "vpc": "Networking", "nat": "Networking", "nat_gw": "Networking",
	"vpn": "Networking", "cen": "Networking", "expressconnect": "Networking", "ga": "Networking",
	"alidns": "Networking", "dns": "Networking", "pvtz": "Networking",
	// Security.
	"waf": "Security", "ddos": "Security", "ddoscoo": "Security", "sas": "Security", "yundun": "Security",
	"cloudfw": "Security", "kms": "Security", "cas": "Security", "bastionhost": "Security",
	// Identity.
	"ram": "Identity", "idaas": "Identity",
	// Management and Governance.
	"cms": "Management and Governance", "arms": "Management and Governance", "actiontrail": "Management and Governance",
	"config": "Management and Governance", "oos": "Management and Governance", "prometheus": "Management and Governance",
	// Integration.
	"mq": "Integration", "ons": "Integration", "kafka": "Integration", "alikafka": "Integration",
	"mns": "Integration", "eventbridge": "Integration", "apigateway": "Integration",
	// AI and Machine Learning.
	"pai": "AI and Machine Learning", "learn": "AI and Machine Learning", "dashscope": "AI and Machine Learning",
	"sfm": "AI and Machine Learning", "imm": "AI and Machine Learning",
	// Media.
	"live": "Media", "vod": "Media", "mts": "Media", "rtc": "Media",
	// Internet of Things.
	"iot": "Internet of Things", "linkwan": "Internet of Things",
	// Developer Tools.
	"cr": "Developer Tools", "acr": "Developer Tools", "codeup": "Developer Tools",
	// Web.
	"domain": "Web", "swas": "Web",
}

// ServiceCategory is the FOCUS ServiceCategory of a BSS product code.
func ServiceCategory(productCode string) string {
	return cmp.Or(serviceCategories[productCode], "Other")
}
