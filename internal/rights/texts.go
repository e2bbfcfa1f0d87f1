package rights

import (
	"fmt"
	"strings"
	"time"

	"github.com/tact-cdp/tact/internal/datamap"
)

// Letter is a mail as the outbox keeps it (sealed).
type Letter struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	// Headers are extra header fields, such as List-Unsubscribe and
	// List-Unsubscribe-Post (RFC 8058) on marketing mail.
	Headers []Header `json:"headers,omitempty"`
}

// Header is one extra header field of a letter.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

var typeNames = map[Type]datamap.Text{
	TypeAccess:         {"en": "a copy of your data", "zh-CN": "获取您的个人信息副本"},
	TypePortability:    {"en": "your data in a portable form", "zh-CN": "以可携带格式获取您的个人信息"},
	TypeErasure:        {"en": "erasure of your data", "zh-CN": "删除您的个人信息"},
	TypeRectify:        {"en": "correction of your data", "zh-CN": "更正您的个人信息"},
	TypeRestrict:       {"en": "restriction of processing", "zh-CN": "限制处理您的个人信息"},
	TypeObject:         {"en": "your objection to processing", "zh-CN": "反对处理您的个人信息"},
	TypeWithdraw:       {"en": "withdrawal of your consent", "zh-CN": "撤回您的同意"},
	TypeOptOutSale:     {"en": "opting out of the sale or sharing of your data", "zh-CN": "拒绝出售或共享您的个人信息"},
	TypeLimitSensitive: {"en": "limiting the use of your sensitive data", "zh-CN": "限制使用您的敏感个人信息"},
	TypeExplain:        {"en": "an explanation of how your data is processed", "zh-CN": "说明您的个人信息处理规则"},
}

// TypeName is the request type in the shopper's words.
func TypeName(t Type, locale string) string { return typeNames[t].Get(locale) }

type letterText struct{ subject, body datamap.Text }

// Mail bodies; %[1]s is the request type, %[2]s the request id, %[3]s the due
// date, then kind-specific values.
var letters = map[string]letterText{
	"code": {
		subject: datamap.Text{"en": "Confirm your request", "zh-CN": "请确认您的请求"},
		body: datamap.Text{
			"en": "We received a request for %[1]s (reference %[2]s). We will answer by %[3]s.\n\n" +
				"To confirm that it was you, enter this code: %[4]s\nor open this link: %[5]s\n\n" +
				"The code is valid for 15 minutes and can be used once. If you did not ask for this, ignore this mail: nothing will happen.",
			"zh-CN": "我们收到了一项请求：%[1]s（编号 %[2]s）。我们将在 %[3]s 前答复。\n\n" +
				"为确认是您本人提出的请求，请输入验证码：%[4]s\n或打开以下链接：%[5]s\n\n" +
				"验证码 15 分钟内有效，仅可使用一次。如果这不是您提出的请求，请忽略本邮件，我们不会做任何处理。",
		},
	},
	"confirmed": {
		subject: datamap.Text{"en": "Your request has taken effect", "zh-CN": "您的请求已生效"},
		body: datamap.Text{
			"en":    "Your request for %[1]s (reference %[2]s) took effect when we received it. Receipts: %[4]s.",
			"zh-CN": "您提出的%[1]s请求（编号 %[2]s）已在我们收到时生效。凭证编号：%[4]s。",
		},
	},
	"report": {
		subject: datamap.Text{"en": "Your data is ready", "zh-CN": "您的个人信息报告已准备好"},
		body: datamap.Text{
			"en":    "The answer to your request for %[1]s (reference %[2]s) is ready: %[4]s\n\nThe link works until %[5]s.",
			"zh-CN": "您提出的%[1]s请求（编号 %[2]s）的答复已准备好：%[4]s\n\n链接有效期至 %[5]s。",
		},
	},
	"done": {
		subject: datamap.Text{"en": "Your request is complete", "zh-CN": "您的请求已完成"},
		body: datamap.Text{
			"en":    "Your request for %[1]s (reference %[2]s) is complete. %[4]s",
			"zh-CN": "您提出的%[1]s请求（编号 %[2]s）已完成。%[4]s",
		},
	},
	"extended": {
		subject: datamap.Text{"en": "We need more time for your request", "zh-CN": "我们需要更多时间处理您的请求"},
		body: datamap.Text{
			"en":    "We need more time to answer your request for %[1]s (reference %[2]s). We will answer by %[3]s.\n\nWhy: %[4]s",
			"zh-CN": "我们需要更多时间答复您提出的%[1]s请求（编号 %[2]s），将在 %[3]s 前答复。\n\n原因：%[4]s",
		},
	},
	"denied": {
		subject: datamap.Text{"en": "We cannot act on your request", "zh-CN": "我们无法执行您的请求"},
		body: datamap.Text{
			"en": "We cannot act on your request for %[1]s (reference %[2]s).\n\nWhy: %[4]s\n\n" +
				"You have the right to complain to the supervisory authority: %[5]s, and to seek a judicial remedy.",
			"zh-CN": "我们无法执行您提出的%[1]s请求（编号 %[2]s）。\n\n原因：%[4]s\n\n" +
				"您有权向监管机构投诉：%[5]s，并有权依法向人民法院提起诉讼。",
		},
	},
}

func compose(kind, locale string, r Request, to string, extra ...any) Letter {
	lt := letters[kind]
	args := append([]any{TypeName(r.Type, locale), r.ID, r.DueAt.Format(time.DateOnly)}, extra...)
	return Letter{To: to, Subject: lt.subject.Get(locale), Text: fmt.Sprintf(lt.body.Get(locale), args...)}
}

var doneTexts = map[Type]datamap.Text{
	TypeErasure: {"en": "We erased your data: it can no longer be read, and what remained has been deleted. We keep a record that you asked, without your data.",
		"zh-CN": "我们已删除您的个人信息：这些信息已无法读取，剩余部分也已删除。我们仅保留您提出请求的记录，其中不含您的个人信息。"},
	TypeRectify:  {"en": "Your data has been corrected.", "zh-CN": "您的个人信息已更正。"},
	TypeRestrict: {"en": "We keep your data but no longer use it for anything else.", "zh-CN": "我们会保存您的个人信息，但不再将其用于其他任何用途。"},
}

func maskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at < 1 {
		return "***"
	}
	return e[:1] + "***" + e[at:]
}

var nothingHeld = datamap.Text{
	"en":    "We hold no personal data about you under the identifier you gave.",
	"zh-CN": "根据您提供的标识，我们没有保存任何关于您的个人信息。",
}
