package bssclient

import "strings"

// The bill APIs document Region as "the ID of the region" but their examples
// show display names ("China (Hangzhou)"), and QuerySplitItemBill's example
// shows an ID ("cn-hangzhou"). INFERRED: either may arrive, in English or
// Chinese. Exporters label by region ID, so every name is normalised here.
var regionNames = map[string][2]string{ // ID -> {English name, Chinese name}
	"cn-qingdao":     {"China (Qingdao)", "华北1（青岛）"},
	"cn-beijing":     {"China (Beijing)", "华北2（北京）"},
	"cn-zhangjiakou": {"China (Zhangjiakou)", "华北3（张家口）"},
	"cn-huhehaote":   {"China (Hohhot)", "华北5（呼和浩特）"},
	"cn-wulanchabu":  {"China (Ulanqab)", "华北6（乌兰察布）"},
	"cn-hangzhou":    {"China (Hangzhou)", "华东1（杭州）"},
	"cn-shanghai":    {"China (Shanghai)", "华东2（上海）"},
	"cn-nanjing":     {"China (Nanjing - Local Region)", "华东5（南京-本地地域）"},
	"cn-fuzhou":      {"China (Fuzhou - Local Region)", "华东6（福州-本地地域）"},
	"cn-shenzhen":    {"China (Shenzhen)", "华南1（深圳）"},
	"cn-heyuan":      {"China (Heyuan)", "华南2（河源）"},
	"cn-guangzhou":   {"China (Guangzhou)", "华南3（广州）"},
	"cn-chengdu":     {"China (Chengdu)", "西南1（成都）"},
	"cn-hongkong":    {"China (Hong Kong)", "中国香港"},
	"ap-northeast-1": {"Japan (Tokyo)", "日本（东京）"},
	"ap-northeast-2": {"South Korea (Seoul)", "韩国（首尔）"},
	"ap-southeast-1": {"Singapore", "新加坡"},
	"ap-southeast-3": {"Malaysia (Kuala Lumpur)", "马来西亚（吉隆坡）"},
	"ap-southeast-5": {"Indonesia (Jakarta)", "印度尼西亚（雅加达）"},
	"ap-southeast-6": {"Philippines (Manila)", "菲律宾（马尼拉）"},
	"ap-southeast-7": {"Thailand (Bangkok)", "泰国（曼谷）"},
	"us-east-1":      {"US (Virginia)", "美国（弗吉尼亚）"},
	"us-west-1":      {"US (Silicon Valley)", "美国（硅谷）"},
	"eu-west-1":      {"UK (London)", "英国（伦敦）"},
	"eu-central-1":   {"Germany (Frankfurt)", "德国（法兰克福）"},
	"me-east-1":      {"UAE (Dubai)", "阿联酋（迪拜）"},
	"me-central-1":   {"Saudi Arabia (Riyadh)", "沙特（利雅得）"},
}

var regionIDByName = func() map[string]string {
	m := make(map[string]string, 2*len(regionNames))
	for id, names := range regionNames {
		m[names[0]] = id
		m[names[1]] = id
	}
	return m
}()

// RegionID returns the region ID for a region as a bill row writes it: an ID
// is returned as is, a known display name as its ID, and anything else
// unchanged, so an unknown region still gets its own label value.
func RegionID(region string) string {
	r := strings.TrimSpace(region)
	if id, ok := regionIDByName[r]; ok {
		return id
	}
	return r
}
