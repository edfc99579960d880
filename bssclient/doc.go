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
package bssclient
