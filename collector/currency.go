package collector

import (
	"context"
	"fmt"
	"sync"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// accountCurrency is an account's billing currency once known.
type accountCurrency struct {
	mu sync.Mutex
	v  string
}

// Currency is the account's billing currency: the balance's. Vouchers,
// prepaid cards and the reservation analyses carry none, and are taken to
// be in it (INFERRED). It never changes, so it is asked once
// (QueryAccountBalance) and shared by the account's collectors: the credit
// and savingsplan collectors together make one request for it.
func (a Account) Currency(ctx context.Context) (string, error) {
	if a.currency == nil {
		a.currency = &accountCurrency{} // built outside New: not shared
	}
	a.currency.mu.Lock()
	defer a.currency.mu.Unlock()
	if a.currency.v != "" {
		return a.currency.v, nil
	}
	b, err := a.Client.QueryAccountBalance(ctx)
	if err != nil {
		return "", fmt.Errorf("learning the account's currency: %w", err)
	}
	if b.Currency == "" {
		return "", &bssclient.ResponseError{Action: bssclient.ActionQueryAccountBalance, Code: bssclient.CodeInvalidResponse,
			Detail: "Data.Currency is empty: the account's currency cannot be told"}
	}
	a.currency.v = b.Currency
	return b.Currency, nil
}
