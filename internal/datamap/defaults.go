package datamap

import "slices"

// Default returns the built-in data map for a typical shop: the purposes,
// categories, recipients, event rules, controller and regimes of DESIGN 6,
// with versions computed. A config file overrides it (see Parse). Each call
// returns a fresh map the caller may change.
func Default() *Map {
	m := &Map{
		Controller:    defaultController(),
		Purposes:      defaultPurposes(),
		Categories:    defaultCategories(),
		Recipients:    defaultRecipients(),
		Events:        defaultEvents(),
		Regimes:       defaultRegimes(),
		DefaultRegime: ModelOptIn,
	}
	m.ComputeVersions()
	return m
}

func t2(en, zh string) Text { return Text{LocaleEN: en, LocaleZH: zh} }

func defaultController() Controller {
	return Controller{
		Name:    "Example Shop GmbH",
		Address: "Musterstraße 1, 10115 Berlin, Germany",
		Country: "DE",
		Email:   "privacy@shop.example",
		Website: "https://shop.example",
		DPO: &Person{
			Name:    "Dr. Anna Beispiel",
			Email:   "dpo@shop.example",
			Address: "Musterstraße 1, 10115 Berlin, Germany",
		},
		PIPLOfficer: &Person{
			Name:  "Li Wei",
			Email: "pipl@shop.example",
		},
		// No EU representative: the controller is established in the EU.
		Representatives: []Representative{
			{Region: "UK", Name: "Example Shop UK Representative Ltd", Email: "uk-rep@shop.example", Address: "1 Example Street, London EC1A 1AA, United Kingdom"},
			{Region: "CN", Name: "示例商店（上海）信息咨询有限公司", Email: "cn-rep@shop.example", Address: "上海市浦东新区示例路 1 号, 200120"},
		},
		SupervisoryAuthority: Authority{
			Name:    "Berliner Beauftragte für Datenschutz und Informationsfreiheit",
			Website: "https://www.datenschutz-berlin.de",
		},
	}
}

var (
	subjectsShoppers = []string{"website and app visitors", "customers"}
	behaviorCats     = []string{"identity.anonymous_id", "identity.user_id", "behavior.browsing", "behavior.purchase", "behavior.search"}
)

func defaultPurposes() []Purpose {
	return []Purpose{
		{
			ID:           PurposeNecessary,
			Title:        t2("Strictly necessary", "必要功能"),
			Description:  t2("Runs the shop you asked for: the cart, checkout, sign-in, security and remembering your privacy choices. Only your country is recorded, never your IP address.", "保障您所请求的商店服务正常运行：购物车、结账、登录、安全防护以及记住您的隐私选择。我们只记录您所在的国家/地区，绝不保存您的 IP 地址。"),
			LegalBasis:   BasisContract,
			Required:     true,
			Categories:   []string{"device.country"},
			Recipients:   []string{"hosting"},
			ConsentMode:  []string{"security_storage", "functionality_storage"},
			DataSubjects: subjectsShoppers,
		},
		{
			ID:           PurposeAnalytics,
			Title:        t2("Analytics", "统计分析"),
			Description:  t2("Helps us understand how the shop is used — which pages are visited, what is searched for and bought — so we can improve it.", "帮助我们了解商店的使用情况——访问了哪些页面、搜索和购买了什么——以便改进我们的商店。"),
			LegalBasis:   BasisConsent,
			Categories:   append(append([]string{}, behaviorCats...), "device.country", "device.technical"),
			Recipients:   []string{"hosting"},
			ConsentMode:  []string{"analytics_storage"},
			DataSubjects: subjectsShoppers,
		},
		{
			ID:           PurposePersonalization,
			Title:        t2("Personalisation", "个性化推荐"),
			Description:  t2("Uses what you view, search for and buy in this shop to recommend products. Recommendations are labelled, explain why they are shown, and can be switched off at any time. Prices are never personalised.", "根据您在本店浏览、搜索和购买的内容为您推荐商品。推荐内容会有明确标注并说明推荐理由，您可以随时关闭。我们绝不会对价格进行个性化。"),
			LegalBasis:   BasisConsent,
			Categories:   append(append([]string{}, behaviorCats...), "profile.interests"),
			Recipients:   []string{"hosting"},
			ConsentMode:  []string{"personalization_storage"},
			DataSubjects: subjectsShoppers,
		},
		{
			ID:              PurposeSensitivePersonalization,
			Title:           t2("Personalisation using sensitive products", "基于敏感商品的个性化推荐"),
			Description:     t2("Also uses your interest in sensitive products, such as health products, for recommendations. Asked separately and never included in \"accept all\".", "在推荐时也会参考您对健康类等敏感商品的兴趣。此项需要您单独同意，不包含在“全部接受”中。"),
			LegalBasis:      BasisConsent,
			SeparateConsent: true,
			Sensitive:       true,
			Categories:      []string{"identity.anonymous_id", "identity.user_id", "behavior.browsing", "behavior.purchase", "health", "profile.interests"},
			Recipients:      []string{"hosting"},
			DataSubjects:    subjectsShoppers,
		},
		{
			ID:           PurposeMarketingEmail,
			Title:        t2("Marketing emails", "营销邮件"),
			Description:  t2("Sends you offers and news by email. You confirm your address first, and every email has a one-click unsubscribe link.", "通过电子邮件向您发送优惠和资讯。您需要先确认邮箱地址，每封邮件都附有一键退订链接。"),
			LegalBasis:   BasisConsent,
			Categories:   []string{"contact.email", "identity.user_id", "behavior.purchase", "profile.interests"},
			Recipients:   []string{"email_service", "hosting"},
			DataSubjects: []string{"customers", "newsletter subscribers"},
		},
		{
			ID:           PurposeMarketingSMS,
			Title:        t2("Marketing text messages", "营销短信"),
			Description:  t2("Sends you offers by text message. Reply STOP or use the privacy center to stop them.", "通过短信向您发送优惠信息。回复 STOP 或在隐私中心即可停止接收。"),
			LegalBasis:   BasisConsent,
			Categories:   []string{"contact.phone", "identity.user_id"},
			Recipients:   []string{"sms_provider", "hosting"},
			DataSubjects: []string{"customers", "text message subscribers"},
		},
		{
			ID:           PurposeAdvertising,
			Title:        t2("Advertising", "广告"),
			Description:  t2("Shares what you view and buy with our advertising partner to show you ads for our products on other sites and to measure those ads.", "与我们的广告合作伙伴共享您浏览和购买的内容，以便在其他网站上向您展示我们商品的广告并衡量广告效果。"),
			LegalBasis:   BasisConsent,
			Categories:   []string{"identity.anonymous_id", "identity.user_id", "contact.email", "behavior.browsing", "behavior.purchase", "device.technical"},
			Recipients:   []string{"ad_network"},
			ConsentMode:  []string{"ad_storage", "ad_user_data", "ad_personalization"},
			DataSubjects: subjectsShoppers,
		},
		{
			ID:           PurposeSaleShare,
			Title:        t2("Sale and sharing of personal information", "出售与共享个人信息"),
			Description:  t2("Makes your browsing and purchase data available to our advertising partner for its own purposes, which US state laws call a \"sale\" or \"sharing\". You can opt out at any time.", "将您的浏览和购买数据提供给我们的广告合作伙伴用于其自身目的，美国各州法律将此称为“出售”或“共享”。您可以随时选择退出。"),
			LegalBasis:   BasisConsent,
			Categories:   []string{"identity.anonymous_id", "behavior.browsing", "behavior.purchase", "device.technical"},
			Recipients:   []string{"ad_network"},
			DataSubjects: subjectsShoppers,
		},
		{
			ID:            PurposeConsentLedger,
			Title:         t2("Proof of consent", "同意记录"),
			Description:   t2("Keeps a tamper-evident record of every privacy choice you make, because we must be able to prove consent (GDPR Art. 7(1)). It holds pseudonyms only.", "以防篡改的方式记录您做出的每一项隐私选择，因为我们必须能够证明已获得同意（GDPR 第 7 条第 1 款）。记录中只包含假名标识。"),
			LegalBasis:    BasisLegalObligation,
			System:        true,
			RetentionDays: 2190,
			Categories:    []string{"identity.anonymous_id", "identity.user_id", "device.country"},
			Recipients:    []string{"hosting"},
			DataSubjects:  []string{"visitors and customers who made a privacy choice"},
		},
		{
			ID:            PurposeRightsRequests,
			Title:         t2("Handling your privacy requests", "处理您的隐私请求"),
			Description:   t2("Records requests to see, download, correct or delete your data, and our answers, so we can show that we answered on time.", "记录您查阅、下载、更正或删除数据的请求以及我们的答复，以证明我们按时作出了回应。"),
			LegalBasis:    BasisLegalObligation,
			System:        true,
			RetentionDays: 1095,
			Categories:    []string{"contact.email", "identity.user_id"},
			Recipients:    []string{"email_service", "hosting"},
			DataSubjects:  []string{"people who make a privacy request"},
		},
		{
			ID:            PurposeAudit,
			Title:         t2("Access audit log", "访问审计日志"),
			Description:   t2("Logs every time our staff or systems access personal data, and why, to detect and investigate misuse.", "记录我们的员工或系统每一次访问个人数据的情况及原因，以便发现和调查滥用行为。"),
			LegalBasis:    BasisLegitimateInterest,
			LIAReference:  "LIA-2025-01 access audit log",
			System:        true,
			RetentionDays: 365,
			Categories:    []string{"identity.user_id"},
			Recipients:    []string{"hosting"},
			DataSubjects:  []string{"customers whose data was accessed", "shop staff"},
		},
		{
			ID:            PurposeSecurity,
			Title:         t2("Security and abuse prevention", "安全与防滥用"),
			Description:   t2("Applies rate limits and blocks abuse of our services. Uses technical data only and keeps it briefly.", "实施访问频率限制并阻止对我们服务的滥用。仅使用技术数据，并且只做短期保存。"),
			LegalBasis:    BasisLegitimateInterest,
			LIAReference:  "LIA-2025-02 security and rate limiting",
			System:        true,
			RetentionDays: 30,
			Categories:    []string{"device.technical", "device.country"},
			Recipients:    []string{"hosting"},
			DataSubjects:  []string{"website and app visitors"},
		},
		{
			ID:            PurposeMeasurement,
			Title:         t2("Anonymous audience measurement", "匿名访问量统计"),
			Description:   t2("Counts visits and orders without identifying you and without storing anything on your device; only totals above a minimum size are reported. You can object in the privacy center.", "在不识别您身份、不在您的设备上存储任何信息的前提下统计访问量和订单量；只报告达到最低数量门槛的汇总数据。您可以在隐私中心提出反对。"),
			LegalBasis:    BasisLegitimateInterest,
			LIAReference:  "LIA-2025-03 consent-free audience measurement",
			System:        true,
			RetentionDays: 760,
			Categories:    []string{"device.country", "device.technical", "behavior.browsing"},
			Recipients:    []string{"hosting"},
			DataSubjects:  []string{"website and app visitors"},
		},
	}
}

func defaultCategories() []Category {
	return []Category{
		{ID: "contact.email", Title: t2("Email address", "电子邮箱地址"), Description: t2("Your email address, if you give it to us.", "您提供给我们的电子邮箱地址。"), RetentionDays: 1095, Recipients: []string{"email_service", "ad_network", "hosting"}},
		{ID: "contact.phone", Title: t2("Phone number", "手机号码"), Description: t2("Your mobile number, if you give it to us for text messages.", "您为接收短信而提供的手机号码。"), RetentionDays: 1095, Recipients: []string{"sms_provider", "hosting"}},
		{ID: "identity.user_id", Title: t2("Customer account id", "客户账户标识"), Description: t2("The id of your customer account with the shop.", "您在本店的客户账户标识。"), RetentionDays: 400, Recipients: []string{"ad_network", "hosting"}},
		{ID: "identity.anonymous_id", Title: t2("Browser id", "浏览器标识"), Description: t2("A random id for your browser or app installation.", "为您的浏览器或应用安装随机生成的标识。"), RetentionDays: 400, Recipients: []string{"ad_network", "hosting"}},
		{ID: "behavior.browsing", Title: t2("Pages and products viewed", "浏览的页面和商品"), Description: t2("Which pages and products you viewed and when; page addresses with ids removed.", "您浏览了哪些页面和商品以及浏览时间；页面地址中的标识会被去除。"), RetentionDays: 400, Recipients: []string{"ad_network", "hosting"}, Behavioral: true},
		{ID: "behavior.purchase", Title: t2("Cart and purchases", "购物车与购买记录"), Description: t2("Products added to your cart and orders you placed.", "您加入购物车的商品以及下的订单。"), RetentionDays: 400, Recipients: []string{"ad_network", "hosting"}, Behavioral: true},
		{ID: "behavior.search", Title: t2("Searches", "搜索记录"), Description: t2("What you searched for in the shop.", "您在本店搜索的内容。"), RetentionDays: 400, Recipients: []string{"hosting"}, Behavioral: true},
		{ID: "device.country", Title: t2("Country", "国家/地区"), Description: t2("The country your connection comes from. Your IP address itself is never stored.", "您的网络连接所在的国家/地区。我们绝不保存您的 IP 地址本身。"), RetentionDays: 400, Recipients: []string{"hosting"}},
		{ID: "device.technical", Title: t2("Browser and device type", "浏览器与设备类型"), Description: t2("Browser family, operating system family and device class (such as phone or desktop).", "浏览器类型、操作系统类型和设备类别（如手机或电脑）。"), RetentionDays: 400, Recipients: []string{"ad_network", "hosting"}},
		{ID: "profile.interests", Title: t2("Interest profile", "兴趣画像"), Description: t2("Product categories you seem interested in, derived from your activity. You can see, edit and pause it.", "根据您的活动推断出的您可能感兴趣的商品类别。您可以查看、编辑或暂停使用。"), RetentionDays: 400, Recipients: []string{"hosting"}, Behavioral: true},
		{ID: "government_id", Title: t2("Government identifiers", "身份证件号码"), Description: t2("Identity card, passport or tax numbers. Not used for any purpose unless you give them for a legal requirement.", "身份证、护照或税号等证件号码。除非您因法律要求而提供，否则不会用于任何目的。"), RetentionDays: 180, Recipients: []string{"hosting"}, Sensitive: true},
		{ID: "financial", Title: t2("Financial account data", "金融账户信息"), Description: t2("Bank or card account details. Payments are handled by the payment provider, not stored by tact.", "银行或银行卡账户信息。付款由支付服务商处理，tact 不保存这些信息。"), RetentionDays: 180, Recipients: []string{"hosting"}, Sensitive: true},
		{ID: "health", Title: t2("Health-related interests", "健康相关兴趣"), Description: t2("Interest in health products, which can reveal information about your health.", "对健康类商品的兴趣，这可能透露您的健康信息。"), RetentionDays: 180, Recipients: []string{"hosting"}, Sensitive: true, Behavioral: true,
			ProductCategories: []string{"Health", "Pharmacy", "Medicine", "Sexual wellness", "Intimate care", "Pregnancy", "Adult"}},
	}
}

func defaultRecipients() []Recipient {
	return []Recipient{
		{
			ID: "hosting", Name: "Example Hosting GmbH", Role: RoleProcessor, Country: "DE",
			Purposes:    []string{PurposeNecessary, PurposeAnalytics, PurposePersonalization, PurposeSensitivePersonalization, PurposeMarketingEmail, PurposeMarketingSMS, PurposeConsentLedger, PurposeRightsRequests, PurposeAudit, PurposeSecurity, PurposeMeasurement},
			Description: t2("Runs the servers tact and the shop run on, in Germany.", "在德国为 tact 和本店提供服务器托管。"),
		},
		{
			ID: "email_service", Name: "Example Mail Ltd", Role: RoleProcessor, Country: "IE",
			Purposes:    []string{PurposeMarketingEmail, PurposeRightsRequests},
			Description: t2("Delivers our emails, including verification codes.", "为我们发送电子邮件，包括验证码。"),
		},
		{
			ID: "sms_provider", Name: "Example SMS Inc.", Role: RoleProcessor, Country: "US", TransferMechanism: TransferSCC,
			Purposes:    []string{PurposeMarketingSMS},
			Description: t2("Delivers our text messages.", "为我们发送短信。"),
		},
		{
			ID: "ad_network", Name: "Example Ads Inc.", Role: RoleController, Country: "US", TransferMechanism: TransferSCC,
			Purposes:    []string{PurposeAdvertising, PurposeSaleShare},
			Description: t2("Shows and measures our ads on other sites and apps, and uses the data for its own purposes.", "在其他网站和应用上展示并衡量我们的广告，并将数据用于其自身目的。"),
		},
	}
}

func defaultEvents() []EventRule {
	shopping := []string{PurposeAnalytics, PurposePersonalization, PurposeAdvertising}
	browse := []string{"identity.anonymous_id", "identity.user_id", "behavior.browsing", "device.country", "device.technical"}
	buy := []string{"identity.anonymous_id", "identity.user_id", "behavior.purchase", "device.country", "device.technical"}
	var ev []EventRule
	ev = append(ev,
		EventRule{Type: "identify", Purposes: []string{PurposeAnalytics, PurposePersonalization, PurposeMarketingEmail, PurposeMarketingSMS}, Categories: []string{"identity.anonymous_id", "identity.user_id", "contact.email", "contact.phone"}},
		EventRule{Type: "page", Purposes: []string{PurposeAnalytics, PurposePersonalization}, Categories: browse},
		EventRule{Type: "screen", Purposes: []string{PurposeAnalytics, PurposePersonalization}, Categories: browse},
	)
	for _, e := range []string{"Product Viewed", "Product Clicked", "Product List Viewed", "Product List Filtered", "Promotion Viewed", "Promotion Clicked"} {
		ev = append(ev, EventRule{Type: "track", Event: e, Purposes: shopping, Categories: browse})
	}
	ev = append(ev, EventRule{Type: "track", Event: "Products Searched", Purposes: shopping, Categories: []string{"identity.anonymous_id", "identity.user_id", "behavior.search", "device.country", "device.technical"}})
	for _, e := range []string{"Product Added", "Product Removed", "Cart Viewed", "Checkout Started", "Checkout Step Completed", "Payment Info Entered", "Order Completed", "Order Refunded", "Order Cancelled", "Coupon Applied", "Product Added to Wishlist"} {
		// Purchases also serve marketing email (the purpose declares
		// behavior.purchase): audiences of buyers for confirmed subscribers.
		ev = append(ev, EventRule{Type: "track", Event: e, Purposes: append(slices.Clone(shopping), PurposeMarketingEmail), Categories: buy})
	}
	ev = append(ev,
		EventRule{Type: "track", Purposes: []string{PurposeAnalytics}, Categories: browse},
		EventRule{Type: "group", Purposes: []string{PurposeAnalytics}, Categories: []string{"identity.anonymous_id", "identity.user_id"}},
		EventRule{Type: "alias", Purposes: []string{PurposeAnalytics}, Categories: []string{"identity.anonymous_id", "identity.user_id"}},
	)
	return ev
}

func defaultRegimes() []Regime {
	return []Regime{
		{
			ID:               ModelOptIn,
			Title:            t2("EU and EEA: GDPR and ePrivacy (opt-in)", "欧盟及欧洲经济区：《通用数据保护条例》与电子隐私规则（事先同意）"),
			Notes:            t2("Requests are answered within one calendar month of receipt; when a request is complex we may extend this by two further months and tell you why within the first month.", "我们会在收到请求后一个日历月内答复；如请求较为复杂，我们可能再延长两个月，并会在第一个月内告知您原因。"),
			Model:            ModelOptIn,
			ConsentValidity:  Period{Months: 13},
			ResponseDeadline: Period{Months: 1},
			Extension:        Period{Months: 2},
			Measurement:      MeasurementAudience,
			GPCDenies:        []string{PurposeAdvertising, PurposeSaleShare},
			MinorAge:         16,
			Authority:        "Berliner Beauftragte für Datenschutz und Informationsfreiheit",
		},
		{
			ID:               "uk",
			SoftOptIn:        true,
			Title:            t2("United Kingdom: UK GDPR and PECR (opt-in)", "英国：《英国通用数据保护条例》与《隐私和电子通信条例》（事先同意）"),
			Notes:            t2("One calendar month, extendable by two; the clock pauses while we wait for information we need to confirm your identity.", "答复期限为一个日历月，可再延长两个月；在等待确认您身份所需的信息期间，期限暂停计算。"),
			Model:            ModelOptIn,
			ConsentValidity:  Period{Months: 13},
			ResponseDeadline: Period{Months: 1},
			Extension:        Period{Months: 2},
			Measurement:      MeasurementAudience,
			GPCDenies:        []string{PurposeAdvertising, PurposeSaleShare},
			PauseForIdentity: true,
			MinorAge:         13,
			Authority:        "Information Commissioner's Office (ICO)",
		},
		{
			ID:               ModelOptOut,
			Title:            t2("United States: California (CCPA/CPRA) and other state privacy laws (opt-out)", "美国：加利福尼亚州（CCPA/CPRA）及其他州隐私法（选择退出）"),
			Notes:            t2("We acknowledge requests within 10 business days and answer within 45 days of receipt, extendable once by 45 days with notice. Opt-outs take effect within 15 business days. A Global Privacy Control signal opts you out of sale, sharing and targeted advertising.", "我们会在 10 个工作日内确认收到请求，并在收到后 45 天内答复，经通知可再延长 45 天。选择退出将在 15 个工作日内生效。全球隐私控制（GPC）信号视为您选择退出出售、共享和定向广告。"),
			Model:            ModelOptOut,
			DefaultGranted:   []string{PurposeAnalytics, PurposePersonalization, PurposeAdvertising, PurposeSaleShare},
			ConsentValidity:  Period{Months: 13},
			ResponseDeadline: Period{Days: 45},
			Extension:        Period{Days: 45},
			Acknowledge:      Period{Days: 10, BusinessDays: true},
			OptOutDeadline:   Period{Days: 15, BusinessDays: true},
			Measurement:      MeasurementAudience,
			GPCDenies:        []string{PurposeAdvertising, PurposeSaleShare},
			MinorAge:         16,
			Authority:        "California Privacy Protection Agency",
		},
		{
			ID:    "pipl",
			Title: t2("China: Personal Information Protection Law (opt-in)", "中国：《个人信息保护法》（事先同意）"),
			// PIPL asks for a "timely" answer and sets no number; 15 days is
			// the shop's policy, in line with the national standard GB/T 35273.
			Notes:            t2("The law requires a timely answer without fixing a deadline; our policy is to answer within 15 days. Data of children under 14 is treated as sensitive and needs a guardian's consent.", "法律要求及时答复，但未规定具体期限；我们的政策是在 15 天内答复。不满十四周岁未成年人的个人信息属于敏感个人信息，需取得其监护人的同意。"),
			Model:            ModelOptIn,
			ConsentValidity:  Period{Months: 13},
			ResponseDeadline: Period{Days: 15},
			Measurement:      MeasurementTotals,
			GPCDenies:        []string{PurposeAdvertising, PurposeSaleShare},
			MinorAge:         14,
			Authority:        "国家互联网信息办公室 (Cyberspace Administration of China)",
		},
	}
}
