package bssclient

// QueryAccountBalance: the account's balance. No request parameters. Unlike
// bills, its amounts are JSON strings ("10000.00"); Money decodes both. Its
// success Code is "200" rather than "Success".

// AccountBalance is the Data of QueryAccountBalance.
type AccountBalance struct {
	AvailableAmount     Money  `json:"AvailableAmount"`
	AvailableCashAmount Money  `json:"AvailableCashAmount"`
	CreditAmount        Money  `json:"CreditAmount"`
	MybankCreditAmount  Money  `json:"MybankCreditAmount"`
	QuotaLimit          Money  `json:"QuotaLimit"`
	Currency            string `json:"Currency"`
}
