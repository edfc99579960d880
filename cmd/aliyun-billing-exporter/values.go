package main

import (
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// quote quotes a value in an error: bssclient.Quote, the one quoting.
func quote(s string) string { return bssclient.Quote(s) }
