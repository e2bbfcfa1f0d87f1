package report

import (
	"fmt"
	"strings"

	"github.com/tact-cdp/tact/internal/datamap"
)

// labels are the fixed texts of the report in one locale. Every field must
// be set for every locale (a test checks it).
type labels struct {
	Title, Intro, RedactionNote, Footer, Contents, GeneratedAt, RequestID, SubjectID, Law, None, Yes, No string
	Colon, ListSep                                                                                       string

	SecWho, SecData, SecIdentities, SecTraits, SecConsent, SecState, SecDerived, SecDisclosures, SecRequests string
	SecProcessing, SecRights, SecProfiling, SecCCPA, SecEvents, Signals                                      string

	Name, Address, Country, Email, Phone, Website, DPO, PIPLOfficer, Representatives, Authority string

	Kind, Value, Since, Attribute                                                  string
	Receipt, LeafIndex, Method, At, NoticeVersion, Choices, Proof, NoProof         string
	Purpose, Status                                                                string
	Interests, Audiences, Retargeting, Category, Score, Source, Item, Shown, Until string
	Recipient, Categories, RequestType, Received, Completed                        string

	LegalBasis, LIA, Retention, Role, Transfer, Sensitive, SeparateConsent, Days string

	Right, HowTo, Endpoint, Reference, Deadline, Complaint, RequestTypeCode string

	CCPACollected, CCPASources, CCPAPurposes, CCPAThirdParties, CCPASoldShared string

	EventsIntro, EventsNone, MessageID, EventType, Occurred, StoredFor, Payload string
}

var labelsByLocale = map[string]*labels{
	datamap.LocaleEN: {
		Title:         "Your personal data",
		Intro:         "This report answers your request %s. It shows the personal data %s holds about you, what it is used for, who receives it, how long it is kept and the rights you have.",
		RedactionNote: "For your protection, passwords and other secrets are removed (shown as [redacted]), and government ids, card numbers and bank account numbers are shown only with their last four characters.",
		Footer:        "A machine-readable copy of this report (JSON) is available from the same link with format=json.",
		Contents:      "Contents",
		GeneratedAt:   "Generated",
		RequestID:     "Request",
		SubjectID:     "Your pseudonymous id",
		Law:           "Applicable law",
		None:          "None.",
		Yes:           "Yes",
		No:            "No",
		Colon:         ": ",
		ListSep:       "; ",

		SecWho:         "Who is responsible",
		SecData:        "The data we hold about you",
		SecIdentities:  "Identifiers linked to you",
		SecTraits:      "Profile attributes",
		SecConsent:     "Your consent history",
		SecState:       "Your current choices",
		SecDerived:     "Data derived about you",
		SecDisclosures: "Disclosures to others",
		SecRequests:    "Your privacy requests",
		SecProcessing:  "How we use your data",
		SecRights:      "Your rights",
		SecProfiling:   "How profiling and recommendations work",
		Signals:        "The rules and signals applied to you",
		SecCCPA:        "California: categories, sources and disclosures",
		SecEvents:      "Events",

		Name:            "Name",
		Address:         "Address",
		Country:         "Country",
		Email:           "Email",
		Phone:           "Phone",
		Website:         "Website",
		DPO:             "Data protection officer",
		PIPLOfficer:     "Personal information protection officer",
		Representatives: "Representatives",
		Authority:       "Supervisory authority",

		Kind:          "Kind",
		Value:         "Value",
		Since:         "Since",
		Attribute:     "Attribute",
		Receipt:       "Receipt",
		LeafIndex:     "Ledger position",
		Method:        "How",
		At:            "When",
		NoticeVersion: "Notice version",
		Choices:       "Choices",
		Proof:         "Inclusion proof",
		NoProof:       "Not yet covered by a signed checkpoint; the proof follows shortly.",
		Purpose:       "Purpose",
		Status:        "Status",
		Interests:     "Interest profile",
		Audiences:     "Audience memberships",
		Retargeting:   "Retargeting counters",
		Category:      "Category",
		Score:         "Score",
		Source:        "Source",
		Item:          "Item",
		Shown:         "Times shown",
		Until:         "Until",
		Recipient:     "Recipient",
		Categories:    "Data categories",
		RequestType:   "Type",
		Received:      "Received",
		Completed:     "Completed",

		LegalBasis:      "Legal basis",
		LIA:             "Legitimate interest assessment",
		Retention:       "Retention",
		Role:            "Role",
		Transfer:        "Transfer safeguard",
		Sensitive:       " (sensitive)",
		SeparateConsent: " (asked separately)",
		Days:            "days",

		Right:           "Right",
		HowTo:           "How to exercise your rights",
		Endpoint:        "Request endpoint",
		Reference:       "Law",
		Deadline:        "Deadline",
		Complaint:       "Complaints",
		RequestTypeCode: "Request type",

		CCPACollected:    "Categories of personal information collected",
		CCPASources:      "Categories of sources",
		CCPAPurposes:     "Business or commercial purposes",
		CCPAThirdParties: "Categories of third parties we disclose to",
		CCPASoldShared:   "Sale and sharing",

		EventsIntro: "Every event stored about you, oldest first, with the purposes it is stored for and the consent receipt that allowed it.",
		EventsNone:  "No events are stored about you.",
		MessageID:   "Message id",
		EventType:   "Type",
		Occurred:    "Occurred",
		StoredFor:   "Stored for",
		Payload:     "Data",
	},
	datamap.LocaleZH: {
		Title:         "您的个人信息",
		Intro:         "本报告是对您的请求 %s 的答复，列出了 %s 持有的您的个人信息、使用目的、接收方、保存期限以及您享有的权利。",
		RedactionNote: "为保护您的安全，密码等机密信息已被移除（显示为 [redacted]），证件号码、银行卡号和银行账号仅显示最后四位。",
		Footer:        "本报告的机器可读版本（JSON）可通过同一链接加上 format=json 获取。",
		Contents:      "目录",
		GeneratedAt:   "生成时间",
		RequestID:     "请求编号",
		SubjectID:     "您的假名标识",
		Law:           "适用法规",
		None:          "无。",
		Yes:           "是",
		No:            "否",
		Colon:         "：",
		ListSep:       "；",

		SecWho:         "谁负责处理您的个人信息",
		SecData:        "我们持有的您的个人信息",
		SecIdentities:  "与您关联的标识",
		SecTraits:      "个人资料属性",
		SecConsent:     "您的同意记录",
		SecState:       "您当前的选择",
		SecDerived:     "基于您的数据推断出的信息",
		SecDisclosures: "向他人披露的记录",
		SecRequests:    "您提交的隐私请求",
		SecProcessing:  "我们如何使用您的个人信息",
		SecRights:      "您的权利",
		SecProfiling:   "用户画像与个性化推荐如何运作",
		Signals:        "适用于您的规则与信号",
		SecCCPA:        "加利福尼亚州：信息类别、来源与披露情况",
		SecEvents:      "事件记录",

		Name:            "名称",
		Address:         "地址",
		Country:         "国家/地区",
		Email:           "电子邮箱",
		Phone:           "电话",
		Website:         "网站",
		DPO:             "数据保护官",
		PIPLOfficer:     "个人信息保护负责人",
		Representatives: "代表",
		Authority:       "监管机构",

		Kind:          "类型",
		Value:         "值",
		Since:         "起始时间",
		Attribute:     "属性",
		Receipt:       "凭证编号",
		LeafIndex:     "账本序号",
		Method:        "方式",
		At:            "时间",
		NoticeVersion: "隐私告知版本",
		Choices:       "选择",
		Proof:         "包含证明",
		NoProof:       "尚未被签名检查点覆盖，证明稍后即可获取。",
		Purpose:       "目的",
		Status:        "状态",
		Interests:     "兴趣画像",
		Audiences:     "所属受众群体",
		Retargeting:   "再营销计数",
		Category:      "类别",
		Score:         "权重",
		Source:        "来源",
		Item:          "商品",
		Shown:         "展示次数",
		Until:         "截止时间",
		Recipient:     "接收方",
		Categories:    "数据类别",
		RequestType:   "类型",
		Received:      "收到时间",
		Completed:     "完成时间",

		LegalBasis:      "法律依据",
		LIA:             "正当利益评估",
		Retention:       "保存期限",
		Role:            "角色",
		Transfer:        "跨境传输保障措施",
		Sensitive:       "（敏感）",
		SeparateConsent: "（需单独同意）",
		Days:            "天",

		Right:           "权利",
		HowTo:           "如何行使您的权利",
		Endpoint:        "请求接口",
		Reference:       "法律条款",
		Deadline:        "答复期限",
		Complaint:       "投诉",
		RequestTypeCode: "请求类型",

		CCPACollected:    "收集的个人信息类别",
		CCPASources:      "信息来源类别",
		CCPAPurposes:     "业务或商业目的",
		CCPAThirdParties: "我们向其披露信息的第三方类别",
		CCPASoldShared:   "出售与共享",

		EventsIntro: "以下是与您相关的全部事件，按时间从早到晚排列，并注明每条事件的存储目的以及允许存储该事件的同意凭证。",
		EventsNone:  "没有存储与您相关的事件。",
		MessageID:   "消息编号",
		EventType:   "类型",
		Occurred:    "发生时间",
		StoredFor:   "存储目的",
		Payload:     "数据内容",
	},
}

// tr is a text in both locales.
type tr = datamap.Text

func t2(en, zh string) tr { return tr{datamap.LocaleEN: en, datamap.LocaleZH: zh} }

// text looks up a code in a table, falling back to the code itself.
func text(table map[string]tr, code, loc string) string {
	if t, ok := table[code]; ok {
		return t.Get(loc)
	}
	return code
}

var identityKinds = map[string]tr{
	"email":       t2("Email address", "电子邮箱地址"),
	"userId":      t2("Customer account id", "客户账户标识"),
	"anonymousId": t2("Browser id", "浏览器标识"),
}

var consentMethods = map[string]tr{
	"banner":         t2("Consent banner", "同意横幅"),
	"privacy_center": t2("Privacy center", "隐私中心"),
	"api":            t2("Through the shop", "通过本店系统"),
	"import":         t2("Imported", "导入"),
	"gpc":            t2("Global Privacy Control signal", "全球隐私控制（GPC）信号"),
	"double_opt_in":  t2("Email address confirmed (double opt-in)", "邮箱地址确认（双重确认）"),
	"soft_opt_in":    t2("Existing customer (soft opt-in)", "基于既有购买关系（soft opt-in）"),
	"unsubscribe":    t2("Unsubscribe link", "退订链接"),
	"request":        t2("Privacy request", "隐私请求"),
}

var statuses = map[string]tr{
	StatusRequired:   t2("Always on (needed for the service you asked for)", "始终启用（提供您所请求的服务所必需）"),
	StatusSystem:     t2("No consent needed (see the legal basis)", "无需同意（见法律依据）"),
	StatusGranted:    t2("Granted", "已同意"),
	StatusPending:    t2("Pending your confirmation", "待您确认"),
	StatusNotGranted: t2("Not granted", "未同意"),
}

var legalBases = map[string]tr{
	string(datamap.BasisConsent):            t2("Your consent", "您的同意"),
	string(datamap.BasisLegitimateInterest): t2("Our legitimate interests (you may object)", "我们的正当利益（您可以提出反对）"),
	string(datamap.BasisLegalObligation):    t2("A legal obligation", "履行法定义务"),
	string(datamap.BasisContract):           t2("Providing the service you asked for", "提供您所请求的服务"),
}

var sources = map[string]tr{
	SourceYou:  t2("Collected from you or your browser on the shop's site", "在本店网站上从您本人或您的浏览器收集"),
	SourceShop: t2("Provided by the shop", "由本店提供"),
	SourceTact: t2("Derived by tact from your other data", "由 tact 根据您的其他数据推断得出"),
}

var roles = map[string]tr{
	datamap.RoleProcessor:       t2("Processor: acts only on our instructions", "受托处理者：仅按照我们的指示处理"),
	datamap.RoleController:      t2("Independent controller: uses the data for its own purposes", "独立的个人信息处理者：将数据用于其自身目的"),
	datamap.RoleJointController: t2("Joint controller: decides with us how the data is used", "共同处理者：与我们共同决定数据的使用方式"),
}

var ccpaRoles = map[string]tr{
	datamap.RoleProcessor:       t2("Service provider", "服务提供商"),
	datamap.RoleController:      t2("Third party", "第三方"),
	datamap.RoleJointController: t2("Third party", "第三方"),
}

var transfers = map[string]tr{
	"":                                   t2("Outside the shop's region, and no safeguard is declared", "位于本店所在地区之外，且未声明保障措施"),
	datamap.TransferAdequacy:             t2("Adequacy decision", "充分性认定"),
	datamap.TransferSCC:                  t2("Standard contractual clauses", "标准合同条款"),
	datamap.TransferBCR:                  t2("Binding corporate rules", "有约束力的企业规则"),
	datamap.TransferPIPLStandardContract: t2("Standard contract for outbound transfers of personal information (China)", "个人信息出境标准合同"),
	datamap.TransferPIPLCertification:    t2("Personal information protection certification (China)", "个人信息保护认证"),
	datamap.TransferConsent:              t2("Your consent to the transfer", "基于您对跨境传输的同意"),
}

var sameRegion = t2("Same region as the shop: no transfer safeguard needed", "与本店位于同一地区，无需跨境传输保障措施")

// retention texts: system purposes keep data for a fixed time; consent
// purposes until withdrawal or expiry, bounded per category.
var (
	retentionFixed   = t2("%s, fixed", "固定保存 %s")
	retentionConsent = t2("Until you withdraw consent or it expires (consent lasts %s), and at most %s per data category", "保存至您撤回同意或同意到期（同意有效期为 %s），且每类数据最长保存 %s")
	retentionMax     = t2("At most %s per data category", "每类数据最长保存 %s")
)

// days formats a number of days, or a span "180–400 days".
func days(lo, hi int, loc string) string {
	n := fmt.Sprint(hi)
	if lo != hi {
		n = fmt.Sprintf("%d–%d", lo, hi)
	}
	if loc == datamap.LocaleZH {
		return n + " 天"
	}
	if lo == hi && hi == 1 {
		return "1 day"
	}
	return n + " days"
}

// period formats a legal period: "1 month", "45 days", "10 business days".
func period(p datamap.Period, loc string) string {
	zh := loc == datamap.LocaleZH
	var parts []string
	if p.Months != 0 {
		switch {
		case zh:
			parts = append(parts, fmt.Sprintf("%d 个月", p.Months))
		case p.Months == 1:
			parts = append(parts, "1 month")
		default:
			parts = append(parts, fmt.Sprintf("%d months", p.Months))
		}
	}
	if p.Days != 0 || p.Months == 0 {
		switch {
		case zh && p.BusinessDays:
			parts = append(parts, fmt.Sprintf("%d 个工作日", p.Days))
		case zh:
			parts = append(parts, fmt.Sprintf("%d 天", p.Days))
		case p.BusinessDays:
			parts = append(parts, fmt.Sprintf("%d business day%s", p.Days, plural(p.Days)))
		default:
			parts = append(parts, fmt.Sprintf("%d day%s", p.Days, plural(p.Days)))
		}
	}
	if zh {
		return strings.Join(parts, "零 ")
	}
	return strings.Join(parts, " and ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// right is one right the report lists: the request type that exercises it
// ("" when no request is needed), and where the law grants it.
type right struct {
	Type        string
	Title       tr // overrides the title of datamap.Rights
	Description tr // overrides its description
	Reference   tr
}

// rightsByFamily lists the rights of each family in the order shown.
var rightsByFamily = map[string][]right{
	FamilyGDPR: {
		{Type: "access", Reference: t2("Art. 15", "第 15 条")},
		{Type: "portability", Reference: t2("Art. 20", "第 20 条")},
		{Type: "rectify", Reference: t2("Art. 16", "第 16 条")},
		{Type: "erasure", Reference: t2("Art. 17", "第 17 条")},
		{Type: "restrict", Reference: t2("Art. 18", "第 18 条")},
		{Type: "object", Reference: t2("Art. 21", "第 21 条")},
		{Type: "withdraw", Reference: t2("Art. 7(3)", "第 7 条第 3 款")},
	},
	FamilyCCPA: {
		{Type: "access", Title: t2("Right to know", "知情权"),
			Description: t2("Know what personal information we collected about you, where it came from, what we use it for and to whom we disclosed it; this report is that answer, and its JSON copy is portable.", "了解我们收集了您的哪些个人信息、信息来源、使用目的以及向谁披露；本报告即为答复，其 JSON 版本可供您转移使用。"),
			Reference:   t2("Cal. Civ. Code § 1798.110", "《加州民法典》第 1798.110 条")},
		{Type: "erasure", Title: t2("Right to delete", "删除权"), Reference: t2("Cal. Civ. Code § 1798.105", "《加州民法典》第 1798.105 条")},
		{Type: "rectify", Title: t2("Right to correct", "更正权"), Reference: t2("Cal. Civ. Code § 1798.106", "《加州民法典》第 1798.106 条")},
		{Type: "opt_out_sale", Title: t2("Right to opt out of sale or sharing", "拒绝出售或共享的权利"), Reference: t2("Cal. Civ. Code § 1798.120", "《加州民法典》第 1798.120 条")},
		{Type: "limit_sensitive", Title: t2("Right to limit the use of sensitive personal information", "限制使用敏感个人信息的权利"), Reference: t2("Cal. Civ. Code § 1798.121", "《加州民法典》第 1798.121 条")},
		{Title: t2("Right to non-discrimination", "不受歧视的权利"),
			Description: t2("We will not deny you goods or services, charge you a different price or give you a different quality of service because you exercised your privacy rights. No request is needed.", "我们不会因为您行使隐私权利而拒绝向您提供商品或服务、向您收取不同的价格或降低服务质量。您无需为此提交请求。"),
			Reference:   t2("Cal. Civ. Code § 1798.125", "《加州民法典》第 1798.125 条")},
	},
	FamilyPIPL: {
		{Type: "access", Title: t2("Access and copy", "查阅、复制权"), Reference: t2("PIPL Art. 44, 45", "《个人信息保护法》第四十四条、第四十五条")},
		{Type: "portability", Title: t2("Transfer to another service", "转移权"), Reference: t2("PIPL Art. 45", "《个人信息保护法》第四十五条")},
		{Type: "rectify", Title: t2("Correction and completion", "更正、补充权"), Reference: t2("PIPL Art. 46", "《个人信息保护法》第四十六条")},
		{Type: "erasure", Reference: t2("PIPL Art. 47", "《个人信息保护法》第四十七条")},
		{Type: "restrict", Title: t2("Restrict processing", "限制处理权"), Reference: t2("PIPL Art. 44", "《个人信息保护法》第四十四条")},
		{Type: "object", Title: t2("Refuse processing", "拒绝处理权"),
			Description: t2("Refuse processing of your personal information, including processing based on our legitimate interests such as anonymous audience measurement.", "拒绝我们处理您的个人信息，包括基于我们正当利益的处理，例如匿名访问量统计。"),
			Reference:   t2("PIPL Art. 44", "《个人信息保护法》第四十四条")},
		{Type: "withdraw", Reference: t2("PIPL Art. 15", "《个人信息保护法》第十五条")},
		{Type: "explain", Title: t2("Explanation of our processing rules", "要求解释说明处理规则"), Reference: t2("PIPL Art. 48", "《个人信息保护法》第四十八条")},
	},
}

// lawNames prefix the GDPR references.
var lawNames = map[string]tr{
	FamilyGDPR: t2("GDPR", "《通用数据保护条例》"),
	"uk":       t2("UK GDPR", "《英国通用数据保护条例》"),
}

var (
	howTo = t2(
		"Use the privacy center on the shop's website%s, or send a request to %s with the request type shown for each right. You can also write to %s. Opt-outs, objections and withdrawals take effect as soon as you submit them; other requests are confirmed with a code we send you, then answered within the deadline below.",
		"您可以使用本店网站%s上的隐私中心，或按各项权利对应的请求类型向 %s 提交请求，也可以发送邮件至 %s。选择退出、反对和撤回同意在提交后立即生效；其他请求将通过我们发送给您的验证码核验身份，并在下述期限内答复。")
	deadlineText = t2("We answer within %s of receiving your request.", "我们会在收到您的请求后 %s 内答复。")
	complaints   = map[string]tr{
		FamilyGDPR: t2("You have the right to lodge a complaint with a supervisory authority, in particular where you live or work or where you think your rights were infringed. The authority for this shop is: %s.",
			"您有权向监管机构投诉，特别是向您的居住地、工作地或您认为权利受到侵害所在地的监管机构投诉。本店的监管机构为：%s。"),
		FamilyCCPA: t2("If you think we have not honoured your rights, you may complain to the authority: %s.",
			"如果您认为我们没有尊重您的权利，可以向监管机构投诉：%s。"),
		FamilyPIPL: t2("You may complain to, or report us to, the authority responsible for personal information protection: %s.",
			"您可以向履行个人信息保护职责的部门投诉、举报：%s。"),
	}
)

// profiling is the fixed explanation of profiling and recommendations;
// {personalization} and {sensitive} stand for the titles of the two
// personalisation purposes in the data map.
var profiling = []tr{
	t2("We personalise only from the events stored for \u201c{personalization}\u201d, and only while you grant it. When you withdraw it, personalisation stops at once, and events kept only for it are deleted.",
		"我们只会使用在您同意“{personalization}”期间为该目的存储的事件为您提供个性化推荐。您撤回同意后，个性化推荐立即停止，仅为此目的存储的事件也会被删除。"),
	t2("Products in sensitive categories, such as health products, are used only if you separately grant \u201c{sensitive}\u201d.",
		"只有在您单独同意“{sensitive}”后，我们才会使用健康类等敏感类别商品的相关信息。"),
	t2("Your interest profile is a list of product categories with a score, built from what you viewed, searched for and bought in this shop. You can see, edit and pause it in the privacy center.",
		"您的兴趣画像由商品类别及其权重组成，根据您在本店浏览、搜索和购买的内容生成。您可以在隐私中心查看、修改或暂停使用。"),
	t2("Every recommendation is labelled as personalised and comes with a reason, for example \u201cbecause you viewed running shoes\u201d. Showing you again items you viewed is limited in number and in time.",
		"每一条推荐都会标注为个性化推荐并附有推荐理由，例如“因为您浏览过跑鞋”。向您再次展示您浏览过的商品，在次数和时间上都有限制。"),
	t2("You can switch personalisation off at any time in the privacy center, or choose results that are not based on your personal characteristics wherever recommendations are shown.",
		"您可以随时在隐私中心关闭个性化推荐，也可以在展示推荐的位置选择不针对您个人特征的结果。"),
	t2("Prices are never personalised: everyone is shown the same price.",
		"价格绝不会个性化：所有人看到的都是相同的价格。"),
}

var (
	profilingOn  = t2("on", "已开启")
	profilingOff = t2("off", "未开启")
	profilingNow = t2("Personalisation is currently %s for you; personalisation using sensitive products is %s.",
		"您目前的个性化推荐状态：%s；基于敏感商品的个性化推荐：%s。")
)

// CCPA categories of personal information (Cal. Civ. Code § 1798.140(v)).
const (
	ccpaIdentifiers = "identifiers"
	ccpaCommercial  = "commercial"
	ccpaInternet    = "internet_activity"
	ccpaGeolocation = "geolocation"
	ccpaInferences  = "inferences"
	ccpaSensitive   = "sensitive"
	ccpaOther       = "other"
)

var ccpaCategoryOrder = []string{ccpaIdentifiers, ccpaCommercial, ccpaInternet, ccpaGeolocation, ccpaInferences, ccpaSensitive, ccpaOther}

var ccpaCategories = map[string]tr{
	ccpaIdentifiers: t2("Identifiers", "标识符"),
	ccpaCommercial:  t2("Commercial information", "商业信息"),
	ccpaInternet:    t2("Internet or other electronic network activity", "互联网或其他电子网络活动信息"),
	ccpaGeolocation: t2("Geolocation data", "地理位置信息"),
	ccpaInferences:  t2("Inferences drawn to create a profile", "用于形成个人画像的推断信息"),
	ccpaSensitive:   t2("Sensitive personal information", "敏感个人信息"),
	ccpaOther:       t2("Other personal information", "其他个人信息"),
}

var (
	soldSharedYes = t2("Yes. Your personal information is sold or shared for: %s. You can opt out at any time with the request type opt_out_sale or a Global Privacy Control signal.",
		"是。您的个人信息因以下目的被出售或共享：%s。您可以随时通过请求类型 opt_out_sale 或全球隐私控制（GPC）信号选择退出。")
	soldSharedNo = t2("No. Your personal information is not sold or shared at present.",
		"否。您的个人信息目前未被出售或共享。")
)

// listSep joins list items in running text.
func listSep(loc string) string {
	if loc == datamap.LocaleZH {
		return "、"
	}
	return ", "
}
