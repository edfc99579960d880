// Package bsssim is a BSS OpenAPI simulator: the independent judge every
// test, benchmark and the demo run the exporter's client against. It shares
// no code with bssclient: its wire types, signature checks (V3
// ACS3-HMAC-SHA256 and V1 HMAC-SHA1), delay table, quota and exact money
// are its own, read from Alibaba's API reference, and Alibaba's official
// SDKs call it in its tests.
//
// The files, by job:
//
//   - world*.go: the billing world, a deterministic function of a seed and
//     the billing clock: a payer and its members, their instances, the rows
//     of every bill at any moment (provisional days, the 24/48/72 h delays,
//     late restatements, final months), commitments, balances. Truth answers
//     what any query should sum to.
//   - server.go: the HTTP endpoint: reading a call, its signature,
//     credentials and quota, and routing it; server_bills.go and
//     server_commitments.go: each action's parameters, checked as BSS
//     checks them, and the World's rows paged into answers;
//     server_reply.go: writing answers and errors; server_stats.go: what
//     was answered. wire*.go holds the answers' JSON types.
//   - dialect.go: the representations answers may take (numbers as strings,
//     times without a zone, …), the values unchanged.
//   - faults.go: injected failures (throttling, 5xx, dropped connections,
//     malformed answers, pagination faults, denied actions, clock skew).
//   - auth.go, signature.go: credentials and request signatures.
//   - calendar.go, clock.go, money.go, quota.go: the billing calendar, the
//     billing clocks, exact amounts, the flow control.
//   - oss*.go: the OSS endpoint holding the bill files of the World's
//     subscriptions (SubscribeBillToOSS): oss.go reads, authenticates and
//     routes a request; oss_signature.go checks OSS4-HMAC-SHA256 and V1
//     signatures; oss_objects.go answers ListObjectsV2, GetObject and
//     HeadObject and writes OSS's XML errors; oss_files.go decides which
//     files exist at a billing moment and which API rows each holds;
//     oss_columns.go is the one table of CSV columns; oss_write.go streams a
//     file as CSV or a zip of CSV parts; oss_faults.go removes files and
//     columns.
//
// bsssimtest answers the World's truth in the client's types, for the
// tests of the client and the collectors.
package bsssim
