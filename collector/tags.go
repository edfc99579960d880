package collector

import "strings"

// parseTags reads the Tag field of a bill row, written by BSS as
// "key:env value:prod; key:team value:payments", into a map. Pairs that do
// not follow the shape are skipped rather than guessed at.
func parseTags(s string) map[string]string {
	if s == "" {
		return nil
	}
	tags := map[string]string{}
	for _, pair := range strings.Split(s, ";") {
		pair = strings.TrimSpace(pair)
		rest, ok := strings.CutPrefix(pair, "key:")
		if !ok {
			continue
		}
		key, value, ok := strings.Cut(rest, " value:")
		if !ok {
			key, value = rest, ""
		}
		if key = strings.TrimSpace(key); key != "" {
			tags[key] = strings.TrimSpace(value)
		}
	}
	return tags
}
