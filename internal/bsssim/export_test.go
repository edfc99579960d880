package bsssim

// FileHeader is the header of files of a subscription type (SubscribeType;
// daily for the ...ForBillingPeriod types' daily files) in a language, for
// the external tests.
func FileHeader(subscribeType string, daily bool, lang string) []string {
	t := fileTypeOf(subscribeType)
	if t == nil {
		return nil
	}
	k := t.monthKind
	if daily || t.dailyRows {
		k = t.dayKind
	}
	var out []string
	for _, c := range columnsOf(k, lang, "") {
		out = append(out, c.name(lang))
	}
	return out
}
