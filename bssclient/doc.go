// Package bssclient talks to the Alibaba Cloud BSS OpenAPI (product BssOpenApi,
// version 2017-12-14): it signs requests, shares one rate limiter per account,
// retries what is worth retrying, walks paginated bills page by page and decodes
// money exactly.
//
// It knows nothing about Prometheus. Callers observe what the client costs them
// through the Observer hook.
//
// The billing calendar (UTC+8 days, settle delays, final-bill moments) lives in
// calendar.go; it is the single place the rest of the project asks about time.
//
// Bill files: an account can subscribe its bills to an OSS bucket
// (SubscribeBillToOSS,
// https://www.alibabacloud.com/help/en/user-center/developer-reference/api-bssopenapi-2017-12-14-subscribebilltooss);
// BSS then writes a CSV per day or month, or a zip of CSV parts past the
// subscription's RowLimitPerFile. NewOSSReader reads the bucket with
// Alibaba's OSS Go SDK v2, signing with the BSS client's own
// CredentialsProvider (OSSCredentials adapts it, so refreshed credentials
// are used from the next request); NewBillFiles finds one subscription's
// files, and its InstanceBillOfDay, InstanceBillOfMonth and
// SplitItemBillOfMonth stream the rows into the API's row types, a page of
// 300 at a time, so the loop that walks DescribeInstanceBill reads a file
// unchanged. A file not pushed is ErrBillFileMissing, for a fallback to
// the API; a header without a needed column is ErrBillFileColumnMissing.
// A file is one GET, and memory does not grow with it: one CSV record at a
// time, a zip inflated part by part as it downloads. The CSV headers are
// not documented: the column table in billfile_columns.go is INFERRED, and
// files carry no CashAmount or AdjustAmount (AmountsNotInBillFiles).
package bssclient
