package bssclient

// QueryBillToOSSSubscription: the bill subscriptions pushed to OSS buckets.
// No request parameters; Items is {"Item":[…]}.

// BillSubscription is one subscription row.
type BillSubscription struct {
	SubscribeBucket   string `json:"SubscribeBucket"`
	BucketOwnerID     int64  `json:"BucketOwnerId"`
	BucketPath        string `json:"BucketPath"`
	SubscribeType     string `json:"SubscribeType"`
	SubscribeLanguage string `json:"SubscribeLanguage"`
	SubscribeTime     string `json:"SubscribeTime"` // "YYYY-MM-DD hh:mm:ss"
	RowLimitPerFile   int64  `json:"RowLimitPerFile"`
}

// BillSubscriptionData is the Data of QueryBillToOSSSubscription.
type BillSubscriptionData struct {
	AccountID   string `json:"AccountID"`
	AccountName string `json:"AccountName"`
	Items       struct {
		Item []BillSubscription `json:"Item"`
	} `json:"Items"`
}
