package recommend

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Reason codes. The personal ones appear only in personalised answers.
const (
	// Personal.
	ReasonViewedRecently = "viewed_recently" // the item itself, viewed lately (a retarget)
	ReasonBecauseViewed  = "because_viewed"  // co-occurs with an item the shopper viewed
	ReasonBecauseCarted  = "because_carted"  // … put in their cart
	ReasonBecauseBought  = "because_bought"  // … bought
	ReasonActivity       = "because_activity"
	ReasonInterest       = "interest"  // popular in a category the shopper likes
	ReasonBuyAgain       = "buy_again" // a repeat-purchase item the shopper bought
	// Non-personal.
	ReasonBoughtTogether    = "bought_together" // co-occurs with the context item
	ReasonPopularInCategory = "popular_in_category"
	ReasonTrending          = "trending"
)

// Locales of the reasons' texts.
const (
	LocaleEN   = "en"
	LocaleZhCN = "zh-CN"
)

// reasonTexts holds each code's text per locale: with a name (%s, an item
// or a category) and without one, for when the name may not be shown.
var reasonTexts = map[string]map[string][2]string{
	LocaleEN: {
		ReasonViewedRecently:    {"", "You viewed this recently"},
		ReasonBecauseViewed:     {"Because you viewed %s", "Based on your recent activity"},
		ReasonBecauseCarted:     {"Because you added %s to your cart", "Based on your recent activity"},
		ReasonBecauseBought:     {"Because you bought %s", "Based on your recent activity"},
		ReasonActivity:          {"", "Based on your recent activity"},
		ReasonInterest:          {"Popular in %s, which you like", "Based on your interests"},
		ReasonBuyAgain:          {"", "You bought this before"},
		ReasonBoughtTogether:    {"Often bought together with %s", "Often bought together"},
		ReasonPopularInCategory: {"Popular in %s", "Popular right now"},
		ReasonTrending:          {"", "Trending now"},
	},
	LocaleZhCN: {
		ReasonViewedRecently:    {"", "您最近浏览过此商品"},
		ReasonBecauseViewed:     {"因为您浏览过“%s”", "根据您最近的浏览和购买"},
		ReasonBecauseCarted:     {"因为您将“%s”加入了购物车", "根据您最近的浏览和购买"},
		ReasonBecauseBought:     {"因为您购买过“%s”", "根据您最近的浏览和购买"},
		ReasonActivity:          {"", "根据您最近的浏览和购买"},
		ReasonInterest:          {"您喜欢的“%s”类热门商品", "根据您的兴趣"},
		ReasonBuyAgain:          {"", "您之前购买过此商品"},
		ReasonBoughtTogether:    {"经常与“%s”一起购买", "经常一起购买"},
		ReasonPopularInCategory: {"“%s”类热门", "当前热门"},
		ReasonTrending:          {"", "当前热门"},
	},
}

// normaliseLocale maps a requested locale to one the texts exist in.
func normaliseLocale(l string) string {
	l = strings.ToLower(strings.ReplaceAll(l, "_", "-"))
	if l == "zh" || strings.HasPrefix(l, "zh-cn") || strings.HasPrefix(l, "zh-hans") || strings.HasPrefix(l, "zh-sg") {
		return LocaleZhCN
	}
	return LocaleEN
}

// maxNameRunes bounds a name inside a reason.
const maxNameRunes = 60

// reason renders code with name, or without it when name is empty (the
// caller leaves it empty for sensitive items and categories).
func reason(locale, code, name string) Reason {
	t := reasonTexts[locale][code]
	if name == "" || t[0] == "" {
		return Reason{Code: code, Text: t[1]}
	}
	if utf8.RuneCountInString(name) > maxNameRunes {
		name = string([]rune(name)[:maxNameRunes-1]) + "…"
	}
	return Reason{Code: code, Text: fmt.Sprintf(t[0], name)}
}

// leaf is the last segment of a category path, the name shown.
func leaf(category string) string {
	if i := strings.LastIndexByte(category, '/'); i >= 0 {
		return category[i+1:]
	}
	return category
}

// muted reports whether category lies under one of the muted paths.
func muted(category string, paths []string) bool {
	for _, p := range paths {
		p = strings.Trim(p, "/")
		if p != "" && (category == p || strings.HasPrefix(category, p+"/")) {
			return true
		}
	}
	return false
}
