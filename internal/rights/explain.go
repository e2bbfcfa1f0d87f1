package rights

import (
	"fmt"
	"strings"
	"time"

	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
)

// The explanation of the rules and signals applied to one shopper (PIPL
// Art. 48; also part of every access report). %-verbs are filled in order.
var explainTexts = map[string]datamap.Text{
	"opt_in": {"en": "Your data follows the rules for %s: nothing beyond what the shop needs to run is stored or used until you allow it.",
		"zh-CN": "您的个人信息适用%s的规则：在您同意之前，除运营所必需的处理外，我们不会保存或使用您的个人信息。"},
	"opt_out": {"en": "Your data follows the rules for %s: %s are allowed until you opt out — never for sensitive data or a minor's data.",
		"zh-CN": "您的个人信息适用%s的规则：在您选择退出之前，%s默认开启——但绝不适用于敏感个人信息或未成年人的个人信息。"},
	"granted": {"en": "%s: used, because you allowed it on %s (receipt %s).",
		"zh-CN": "%s：已使用，因为您于 %s 同意（凭证 %s）。"},
	"default": {"en": "%s: used by default under these rules until you opt out.",
		"zh-CN": "%s：依据上述规则默认使用，直至您选择退出。"},
	"denied": {"en": "%s: not used — you refused it on %s (receipt %s).",
		"zh-CN": "%s：未使用——您于 %s 拒绝（凭证 %s）。"},
	"undecided": {"en": "%s: not used — you have not allowed it.",
		"zh-CN": "%s：未使用——您尚未同意。"},
	"pending": {"en": "%s: waiting for you to confirm it from the mail we sent.",
		"zh-CN": "%s：等待您通过我们发送的邮件确认。"},
	"lapsed": {"en": "%s: not used — your consent has expired or the purpose changed since; you will be asked again.",
		"zh-CN": "%s：未使用——您的同意已过期或该用途已变更，我们会再次征求您的同意。"},
	"gpc": {"en": "A Global Privacy Control signal from your browser was recorded on %s: %s are off.",
		"zh-CN": "我们于 %s 记录到您浏览器发出的全球隐私控制（GPC）信号：%s已关闭。"},
	"minor": {"en": "You are treated as a minor: advertising, sale or sharing, profiling and audiences are off.",
		"zh-CN": "您被视为未成年人：广告、出售或共享、用户画像和受众群体均已关闭。"},
	"restricted": {"en": "Processing has been restricted at your request since %s: your data is kept, but not used.",
		"zh-CN": "应您的要求，自 %s 起限制处理：您的个人信息会被保存，但不会被使用。"},
	"events": {"en": "Each event is stored only for the purposes the shop declares for it and you allow when it arrives; consent signals sent with an event can only narrow this, never widen it.",
		"zh-CN": "每个事件仅为商店为其声明、且在事件到达时您已同意的用途保存；随事件发送的同意信号只能缩小而不能扩大这一范围。"},
	"sensitive": {"en": "Events about sensitive products (%s) are used only with your separate consent to %s.",
		"zh-CN": "涉及敏感商品（%s）的事件仅在您单独同意%s后才会被使用。"},
}

func explain(key, locale string, args ...any) string {
	return fmt.Sprintf(explainTexts[key].Get(locale), args...)
}

// signals explains the rules and signals applied to a shopper now.
func signals(dm *datamap.Map, reg datamap.Regime, pol *consent.Policy, subj consent.Subject, now time.Time, locale string) []string {
	title := func(id string) string {
		if p, ok := dm.Purpose(id); ok {
			return p.Title.Get(locale)
		}
		return id
	}
	day := func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format(time.DateOnly)
	}
	sep := ", "
	if locale == datamap.LocaleZH {
		sep = "、"
	}
	var out []string
	if reg.Model == datamap.ModelOptOut {
		var defaults []string
		for _, id := range reg.DefaultGranted {
			defaults = append(defaults, title(id))
		}
		out = append(out, explain("opt_out", locale, reg.Title.Get(locale), strings.Join(defaults, sep)))
	} else {
		out = append(out, explain("opt_in", locale, reg.Title.Get(locale)))
	}
	view := pol.View(subj.State, subj.Flags(), now)
	for _, r := range pol.Purposes() {
		if r.Required {
			continue
		}
		v := view[r.ID]
		switch v.Status {
		case consent.StatusGranted:
			out = append(out, explain("granted", locale, title(r.ID), day(v.Since), v.ReceiptID))
		case consent.StatusDefault:
			if v.Granted {
				out = append(out, explain("default", locale, title(r.ID)))
			} else {
				out = append(out, explain("undecided", locale, title(r.ID)))
			}
		case consent.StatusDenied:
			if v.ReceiptID != "" {
				out = append(out, explain("denied", locale, title(r.ID), day(v.Since), v.ReceiptID))
			} else {
				out = append(out, explain("undecided", locale, title(r.ID)))
			}
		case consent.StatusPending:
			out = append(out, explain("pending", locale, title(r.ID)))
		case consent.StatusExpired, consent.StatusOutdated:
			out = append(out, explain("lapsed", locale, title(r.ID)))
		}
	}
	if !subj.GPCAt.IsZero() {
		var off []string
		for _, id := range pol.GPCDenies() {
			off = append(off, title(id))
		}
		at := subj.GPCAt
		out = append(out, explain("gpc", locale, day(&at), strings.Join(off, sep)))
	}
	if subj.Minor {
		out = append(out, explain("minor", locale))
	}
	if !subj.RestrictedAt.IsZero() {
		at := subj.RestrictedAt
		out = append(out, explain("restricted", locale, day(&at)))
	}
	out = append(out, explain("events", locale))
	var sensitive []string
	for _, c := range dm.Categories {
		if c.Sensitive && len(c.ProductCategories) > 0 {
			sensitive = append(sensitive, c.Title.Get(locale))
		}
	}
	if len(sensitive) > 0 {
		out = append(out, explain("sensitive", locale, strings.Join(sensitive, sep), title(datamap.PurposeSensitivePersonalization)))
	}
	return out
}
