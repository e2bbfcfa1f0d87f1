package optin

import (
	"fmt"

	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/rights"
)

func t2(en, zh string) datamap.Text { return datamap.Text{"en": en, "zh-CN": zh} }

var (
	confirmSubject = t2("Please confirm your subscription", "请确认您的订阅")
	confirmBody    = t2(`Hello,

you (or someone using your address) asked %s to send offers and news to this address.
To confirm, open this link and press the "Confirm" button within 7 days:

%s

If you did not ask for this, ignore this mail: nothing will be sent to you.
You can leave the list at any time: %s
`, `您好：

您（或使用您邮箱地址的人）请求%s向此地址发送优惠和资讯。
如需确认，请在 7 天内打开以下链接并点击"确认"按钮：

%s

如果这不是您的请求，请忽略此邮件：我们不会向您发送任何内容。
您可以随时退订：%s
`)

	pageConfirmTitle = t2("Confirm your subscription", "确认您的订阅")
	pageConfirmText  = t2("Press the button to confirm that you want offers and news by email at this address. You can unsubscribe at any time.", "点击按钮，确认您希望通过此邮箱接收优惠和资讯。您可以随时退订。")
	pageConfirmBtn   = t2("Confirm", "确认")
	pageConfirmed    = t2("Thank you: your subscription is confirmed.", "谢谢：您的订阅已确认。")
	pageInvalid      = t2("This confirmation link is not valid: it may have expired (links last 7 days) or been used already.", "此确认链接无效：它可能已过期（有效期 7 天）或已被使用。")

	pageUnsubTitle = t2("Unsubscribe", "退订")
	pageUnsubText  = t2("Press the button to stop receiving %s.", "点击按钮，停止接收%s。")
	pageUnsubBtn   = t2("Unsubscribe", "退订")
	pageUnsubDone  = t2("You are unsubscribed. You will not receive these messages any more.", "您已退订，今后不会再收到此类消息。")

	listNames = map[string]datamap.Text{
		datamap.PurposeMarketingEmail: t2("marketing emails", "营销邮件"),
		datamap.PurposeMarketingSMS:   t2("marketing text messages", "营销短信"),
	}
)

func (s *Service) shopName() string {
	if s.DataMap != nil {
		if n := s.DataMap().Controller.Name; n != "" {
			return n
		}
	}
	return "the shop"
}

func (s *Service) confirmationLetter(to, locale, link, unsubscribe string) rights.Letter {
	return rights.Letter{
		To:      to,
		Subject: confirmSubject.Get(locale),
		Text:    fmt.Sprintf(confirmBody.Get(locale), s.shopName(), link, unsubscribe),
		Headers: ListHeaders(unsubscribe),
	}
}
