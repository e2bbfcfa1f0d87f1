package datamap

import "slices"

// Notice is the privacy notice served at GET /v1/notice (DESIGN 5.2),
// rendered from the map in one locale.
type Notice struct {
	Version          string            `json:"version"`
	Locale           string            `json:"locale"` // the locale actually used
	Controller       Controller        `json:"controller"`
	Purposes         []NoticePurpose   `json:"purposes"`
	Categories       []NoticeCategory  `json:"categories"`
	Recipients       []NoticeRecipient `json:"recipients"`
	SystemProcessing []NoticeSystem    `json:"system_processing"`
	Rights           NoticeRights      `json:"rights"`
	Regime           string            `json:"regime"` // the default regime
	Regimes          []NoticeRegime    `json:"regimes"`
}

// NoticePurpose is a purpose the shopper chooses about.
type NoticePurpose struct {
	ID              string          `json:"id"`
	Version         string          `json:"version"`
	Title           string          `json:"title"`
	Description     string          `json:"description"`
	LegalBasis      LegalBasis      `json:"legal_basis"`
	LegalBasisText  string          `json:"legal_basis_text"`
	Required        bool            `json:"required"`
	SeparateConsent bool            `json:"separate_consent"`
	Sensitive       bool            `json:"sensitive"`
	Default         map[string]bool `json:"default"` // regime id -> starts granted
	Categories      []string        `json:"categories"`
	Recipients      []string        `json:"recipients"`
	ConsentMode     []string        `json:"consent_mode"`
}

// NoticeCategory is a data category with its retention.
type NoticeCategory struct {
	ID            string   `json:"id"`
	Title         string   `json:"title"`
	Description   string   `json:"description,omitempty"`
	RetentionDays int      `json:"retention_days"`
	Sensitive     bool     `json:"sensitive"`
	Recipients    []string `json:"recipients"`
}

// NoticeRecipient is a recipient with its role and transfer.
type NoticeRecipient struct {
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	Role              string   `json:"role"`
	Country           string   `json:"country"`
	TransferMechanism string   `json:"transfer_mechanism,omitempty"`
	Description       string   `json:"description,omitempty"`
	Purposes          []string `json:"purposes"`
}

// NoticeSystem is processing tact does without consent.
type NoticeSystem struct {
	ID             string     `json:"id"`
	Title          string     `json:"title"`
	Description    string     `json:"description"`
	LegalBasis     LegalBasis `json:"legal_basis"`
	LegalBasisText string     `json:"legal_basis_text"`
	LIAReference   string     `json:"lia_reference,omitempty"`
	RetentionDays  int        `json:"retention_days"`
	Categories     []string   `json:"categories"`
}

// NoticeRights says what the shopper may ask for and how.
type NoticeRights struct {
	Endpoint  string          `json:"endpoint"`
	HowTo     string          `json:"how_to"`
	Items     []NoticeRight   `json:"items"`
	Complaint NoticeComplaint `json:"complaint"`
}

// NoticeRight is one right; Type is the request type to file.
type NoticeRight struct {
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

// NoticeComplaint names where to complain.
type NoticeComplaint struct {
	Text      string    `json:"text"`
	Authority Authority `json:"authority"`
}

// NoticeRegime summarises a regime.
type NoticeRegime struct {
	ID               string   `json:"id"`
	Title            string   `json:"title"`
	Notes            string   `json:"notes,omitempty"`
	Model            string   `json:"model"`
	DefaultGranted   []string `json:"default_granted"`
	ConsentValidity  Period   `json:"consent_validity"`
	ResponseDeadline Period   `json:"response_deadline"`
	Extension        Period   `json:"extension"`
	Acknowledge      Period   `json:"acknowledge"`
	OptOutDeadline   Period   `json:"opt_out_deadline"`
	Measurement      string   `json:"measurement"`
	GPCDenies        []string `json:"gpc_denies"`
	PauseForIdentity bool     `json:"pause_for_identity"`
	MinorAge         int      `json:"minor_age"`
	Authority        string   `json:"authority,omitempty"`
}

// RequestsEndpoint is where rights requests are filed (DESIGN 5.4).
const RequestsEndpoint = "POST /v1/requests"

// Rights lists the rights tact answers, by request type. tact offers all of
// them under every regime: giving more than a law requires is allowed.
var Rights = []struct {
	Type        string
	Title       Text
	Description Text
}{
	{"access", t2("Access", "查阅权"), t2("See what personal data we hold about you, what we use it for, who received it and how long we keep it.", "查阅我们持有的您的个人信息、使用目的、接收方以及保存期限。")},
	{"portability", t2("Portability", "可携带权"), t2("Receive your data in a machine-readable format to take it elsewhere.", "以机器可读的格式获取您的数据，以便转移给其他服务方。")},
	{"erasure", t2("Erasure", "删除权"), t2("Have your personal data deleted.", "要求删除您的个人信息。")},
	{"rectify", t2("Rectification", "更正权"), t2("Have inaccurate or incomplete data corrected.", "要求更正不准确或不完整的个人信息。")},
	{"restrict", t2("Restriction", "限制处理权"), t2("Have the use of your data restricted while a dispute is resolved.", "在争议解决期间要求限制对您个人信息的处理。")},
	{"object", t2("Objection", "反对权"), t2("Object to processing based on our legitimate interests, including anonymous audience measurement.", "反对我们基于正当利益进行的处理，包括匿名访问量统计。")},
	{"withdraw", t2("Withdraw consent", "撤回同意"), t2("Withdraw any consent at any time, as easily as you gave it; it takes effect at once.", "您可以随时撤回任何同意，撤回与给予同意一样方便，并立即生效。")},
	{"opt_out_sale", t2("Opt out of sale and sharing", "拒绝出售与共享"), t2("Stop the sale or sharing of your personal information and targeted advertising. A Global Privacy Control signal does this automatically.", "停止出售或共享您的个人信息以及定向广告。全球隐私控制（GPC）信号会自动实现这一点。")},
	{"limit_sensitive", t2("Limit use of sensitive data", "限制敏感信息的使用"), t2("Limit the use of sensitive personal information to what is needed to serve you.", "将敏感个人信息的使用限制在为您提供服务所必需的范围内。")},
	{"explain", t2("Explanation", "要求解释说明"), t2("Ask us to explain our processing rules, including how recommendations are made.", "要求我们解释说明个人信息处理规则，包括推荐是如何产生的。")},
}

var (
	rightsHowTo = t2("Use the privacy center, or send a request to POST /v1/requests. Opt-outs, objections and withdrawals take effect on submission; other requests are verified by a code sent to you and answered within the deadline of your regime.",
		"请使用隐私中心，或向 POST /v1/requests 提交请求。选择退出、反对和撤回同意在提交后立即生效；其他请求会通过发送给您的验证码进行身份核验，并在适用法规规定的期限内答复。")
	complaintText = t2("You may complain to a data protection supervisory authority, in particular where you live or work.",
		"您可以向个人信息保护监管机构投诉，特别是您居住地或工作地的监管机构。")
	basisText = map[LegalBasis]Text{
		BasisConsent:            t2("Your consent", "您的同意"),
		BasisLegitimateInterest: t2("Our legitimate interests (you may object)", "我们的正当利益（您可以提出反对）"),
		BasisLegalObligation:    t2("A legal obligation", "履行法定义务"),
		BasisContract:           t2("Providing the service you asked for", "提供您所请求的服务"),
	}
)

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// Notice renders the notice in locale ("en" or "zh-CN"; "zh", "zh-cn" and
// "zh-Hans" mean "zh-CN"; anything else falls back to "en").
func (m *Map) Notice(locale string) Notice {
	loc := NormalizeLocale(locale)
	n := Notice{
		Version:          m.NoticeVersion(),
		Locale:           loc,
		Controller:       m.Controller,
		Purposes:         []NoticePurpose{},
		Categories:       []NoticeCategory{},
		Recipients:       []NoticeRecipient{},
		SystemProcessing: []NoticeSystem{},
		Regime:           m.DefaultRegime,
		Regimes:          []NoticeRegime{},
	}
	if n.Controller.Representatives == nil {
		n.Controller.Representatives = []Representative{}
	}
	for _, p := range m.Purposes {
		if p.System {
			n.SystemProcessing = append(n.SystemProcessing, NoticeSystem{
				ID: p.ID, Title: p.Title.Get(loc), Description: p.Description.Get(loc),
				LegalBasis: p.LegalBasis, LegalBasisText: basisText[p.LegalBasis].Get(loc),
				LIAReference: p.LIAReference, RetentionDays: p.RetentionDays, Categories: orEmpty(p.Categories),
			})
			continue
		}
		np := NoticePurpose{
			ID: p.ID, Version: p.Version, Title: p.Title.Get(loc), Description: p.Description.Get(loc),
			LegalBasis: p.LegalBasis, LegalBasisText: basisText[p.LegalBasis].Get(loc),
			Required: p.Required, SeparateConsent: p.SeparateConsent, Sensitive: p.Sensitive,
			Default:    map[string]bool{},
			Categories: orEmpty(p.Categories), Recipients: []string{}, ConsentMode: orEmpty(p.ConsentMode),
		}
		for _, r := range m.Regimes {
			np.Default[r.ID] = p.Required || r.DefaultGrants(p.ID)
		}
		for _, r := range m.PurposeRecipients(p.ID) {
			np.Recipients = append(np.Recipients, r.ID)
		}
		n.Purposes = append(n.Purposes, np)
	}
	for _, c := range m.Categories {
		n.Categories = append(n.Categories, NoticeCategory{
			ID: c.ID, Title: c.Title.Get(loc), Description: c.Description.Get(loc),
			RetentionDays: c.RetentionDays, Sensitive: c.Sensitive, Recipients: orEmpty(c.Recipients),
		})
	}
	for _, r := range m.Recipients {
		nr := NoticeRecipient{
			ID: r.ID, Name: r.Name, Role: r.Role, Country: r.Country,
			TransferMechanism: r.TransferMechanism, Description: r.Description.Get(loc), Purposes: []string{},
		}
		for _, p := range m.Purposes {
			if slices.Contains(r.Purposes, p.ID) || slices.Contains(p.Recipients, r.ID) {
				nr.Purposes = append(nr.Purposes, p.ID)
			}
		}
		n.Recipients = append(n.Recipients, nr)
	}
	n.Rights = NoticeRights{
		Endpoint: RequestsEndpoint,
		HowTo:    rightsHowTo.Get(loc),
		Complaint: NoticeComplaint{
			Text:      complaintText.Get(loc),
			Authority: m.Controller.SupervisoryAuthority,
		},
	}
	for _, r := range Rights {
		n.Rights.Items = append(n.Rights.Items, NoticeRight{Type: r.Type, Title: r.Title.Get(loc), Description: r.Description.Get(loc)})
	}
	for _, r := range m.Regimes {
		n.Regimes = append(n.Regimes, NoticeRegime{
			ID: r.ID, Title: r.Title.Get(loc), Notes: r.Notes.Get(loc), Model: r.Model,
			DefaultGranted: orEmpty(r.DefaultGranted), ConsentValidity: r.ConsentValidity,
			ResponseDeadline: r.ResponseDeadline, Extension: r.Extension, Acknowledge: r.Acknowledge,
			OptOutDeadline: r.OptOutDeadline, Measurement: r.Measurement, GPCDenies: orEmpty(r.GPCDenies),
			PauseForIdentity: r.PauseForIdentity, MinorAge: r.MinorAge, Authority: r.Authority,
		})
	}
	return n
}
