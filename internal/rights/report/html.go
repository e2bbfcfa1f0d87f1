package report

import (
	"cmp"
	"html"
	"html/template"
	"io"
	"strconv"
	"strings"
)

// HTMLStyleCSP is the Content-Security-Policy to send with WriteHTML's
// page: nothing may load or run except the page's one inline style block,
// allowed by its hash. The page has no script, no image and no external
// resource; links only navigate.
const HTMLStyleCSP = "default-src 'none'; style-src 'sha256-s68+xxP3UKZWY5WqFA/uoNrDx6XbD6M5DP3gAfHesnA='; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// WriteHTML writes the report as an HTML page in the report's locale:
// the sections first, then one article per event as the iterator yields
// them, then the footer. Every value is escaped: by html/template, save
// each event's payload, which is escaped in one pass by appendHTMLEscaped
// (it is most of the page) and handed to the template as template.HTML.
// Send it with Content-Security-Policy: HTMLStyleCSP. Errors as for
// WriteJSON.
func WriteHTML(w io.Writer, r *Report, events Events) error {
	v, err := newView(r)
	if err != nil {
		return err
	}
	o := newOut(w)
	if err := pageHead.Execute(o, v); err != nil {
		return err
	}
	var row eventRow
	pageEvent := pageEvents[v.Locale]
	var payload, escaped []byte
	var red redactor
	purposes := purposeTexts{v: v}
	n, err := stream(o, events, func(n int, e *Event) error {
		// Redacted and indented in one pass, then escaped for the <pre>
		// it goes in (the bulk of the page: escaped here in one cheap
		// pass rather than by the template, rune by rune).
		payload = red.append(payload[:0], e.Payload, true)
		escaped = appendHTMLEscaped(escaped[:0], payload)
		row.ID, row.MessageID, row.ReceiptID = "event-"+strconv.Itoa(n), e.MessageID, cmp.Or(e.ReceiptID, "—")
		row.Heading = strconv.Itoa(n) + ". " + e.Type
		if e.Event != "" {
			row.Heading += " · " + e.Event
		}
		row.OccurredAt, row.ReceivedAt = stamp(e.OccurredAt).String(), stamp(e.ReceivedAt).String()
		row.Purposes = purposes.text(e.Purposes)
		row.Payload = template.HTML(escaped)
		return pageEvent.Execute(o, &row)
	})
	if err != nil {
		return err
	}
	if err := pageFoot.Execute(o, struct {
		L     *labels
		Count int
	}{v.L, n}); err != nil {
		return err
	}
	return o.end()
}

// eventRow is what one execution of the event template shows. The
// template runs once per event, so it is kept to a few actions: its
// labels are part of its text (one template per locale) and the heading
// and purposes come ready-made.
type eventRow struct {
	ID                     string
	Heading                string
	MessageID, ReceiptID   string
	OccurredAt, ReceivedAt string
	Purposes               string
	Payload                template.HTML // escaped by appendHTMLEscaped
}

// purposeTexts shows an event's purposes, "Analytics (analytics); …",
// remembering the few distinct lists a shopper's events have.
type purposeTexts struct {
	v    *view
	seen map[string]string
}

func (p *purposeTexts) text(ids []string) string {
	key := strings.Join(ids, ",")
	if s, ok := p.seen[key]; ok {
		return s
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = p.v.title(id) + " (" + id + ")"
	}
	s := strings.Join(parts, p.v.L.ListSep)
	if p.seen == nil {
		p.seen = map[string]string{}
	}
	if len(p.seen) < 256 { // bounded, whatever the events hold
		p.seen[key] = s
	}
	return s
}

// htmlEntity holds the replacement of the bytes appendHTMLEscaped
// escapes.
var htmlEntity = [256]string{'&': "&amp;", '<': "&lt;", '>': "&gt;", '"': "&#34;", '\'': "&#39;", 0: "\uFFFD"}

// appendHTMLEscaped appends src escaped for HTML text or a quoted
// attribute: the five special characters as entities, NUL as U+FFFD (as
// html/template does). Byte-wise is safe: all six are ASCII, and UTF-8
// never uses ASCII bytes inside a multi-byte character.
func appendHTMLEscaped(dst, src []byte) []byte {
	last := 0
	for i, c := range src {
		if e := htmlEntity[c]; e != "" {
			dst = append(dst, src[last:i]...)
			dst = append(dst, e...)
			last = i + 1
		}
	}
	return append(dst, src[last:]...)
}

// The page style; HTMLStyleCSP holds its hash (a test checks it).
const pageStyle = `
body{font:15px/1.5 system-ui,sans-serif;color:#1b1b1b;background:#fff;max-width:62rem;margin:0 auto;padding:1rem}
h1,h2,h3,h4{line-height:1.25}
h2{border-bottom:2px solid #d8d8d8;padding-bottom:.2rem;margin-top:2.5rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{border:1px solid #d8d8d8;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0}
dt{font-weight:600}
dd{margin:0}
pre{background:#f6f6f6;padding:.5rem;margin:.5rem 0;white-space:pre-wrap;word-break:break-all}
article{border:1px solid #d8d8d8;border-radius:4px;padding:.25rem 1rem;margin:1rem 0}
.note{background:#fff6d6;padding:.5rem 1rem}
.code{font-family:ui-monospace,monospace;font-size:.9em;color:#555}
`

var (
	pageHead   = template.Must(template.New("head").Parse(headHTML))
	pageEvents = func() map[string]*template.Template {
		m := map[string]*template.Template{}
		for loc, l := range labelsByLocale {
			// The labels are written into the template's text, escaped.
			text := strings.NewReplacer(
				"«MessageID»", html.EscapeString(l.MessageID), "«Occurred»", html.EscapeString(l.Occurred),
				"«Received»", html.EscapeString(l.Received), "«StoredFor»", html.EscapeString(l.StoredFor),
				"«Receipt»", html.EscapeString(l.Receipt),
			).Replace(eventHTML)
			m[loc] = template.Must(template.New("event").Parse(text))
		}
		return m
	}()
	pageFoot = template.Must(template.New("foot").Parse(footHTML))
)

const headHTML = `<!DOCTYPE html>
<html lang="{{.Locale}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.L.Title}} · {{.Controller.Name}}</title>
<style>` + pageStyle + `</style>
</head>
<body>
<header>
<h1>{{.L.Title}}</h1>
<p>{{.Intro}}</p>
<dl>
<dt>{{.L.RequestID}}</dt><dd class="code">{{.RequestID}}</dd>
<dt>{{.L.GeneratedAt}}</dt><dd>{{.GeneratedAt}}</dd>
<dt>{{.L.SubjectID}}</dt><dd class="code">{{.Subject}}</dd>
<dt>{{.L.Law}}</dt><dd>{{.Regime.Title}}</dd>
</dl>
<p class="note">{{.L.RedactionNote}}</p>
<nav>
<h2>{{.L.Contents}}</h2>
<ol>
<li><a href="#who">{{.L.SecWho}}</a></li>
<li><a href="#data">{{.L.SecData}}</a></li>
<li><a href="#processing">{{.L.SecProcessing}}</a></li>
<li><a href="#rights">{{.L.SecRights}}</a></li>
<li><a href="#profiling">{{.L.SecProfiling}}</a></li>
{{- if .CCPA}}
<li><a href="#ccpa">{{.L.SecCCPA}}</a></li>
{{- end}}
<li><a href="#events">{{.L.SecEvents}}</a></li>
</ol>
</nav>
</header>
<main>
<section id="who">
<h2>{{.L.SecWho}}</h2>
{{- with .Controller}}
<dl>
<dt>{{$.L.Name}}</dt><dd>{{.Name}}</dd>
<dt>{{$.L.Address}}</dt><dd>{{.Address}}</dd>
<dt>{{$.L.Country}}</dt><dd>{{.Country}}</dd>
<dt>{{$.L.Email}}</dt><dd>{{.Email}}</dd>
{{- with .Website}}
<dt>{{$.L.Website}}</dt><dd><a href="{{.}}" rel="noopener noreferrer">{{.}}</a></dd>
{{- end}}
{{- with .DPO}}
<dt>{{$.L.DPO}}</dt><dd>{{template "person" .}}</dd>
{{- end}}
{{- with .PIPLOfficer}}
<dt>{{$.L.PIPLOfficer}}</dt><dd>{{template "person" .}}</dd>
{{- end}}
{{- if .Representatives}}
<dt>{{$.L.Representatives}}</dt><dd><ul>
{{- range .Representatives}}
<li>{{.Region}}{{$.L.Colon}}{{.Name}}{{with .Email}}, {{.}}{{end}}{{with .Address}}, {{.}}{{end}}</li>
{{- end}}
</ul></dd>
{{- end}}
{{- with .SupervisoryAuthority}}{{if .Name}}
<dt>{{$.L.Authority}}</dt><dd>{{.Name}}{{with .Website}} — <a href="{{.}}" rel="noopener noreferrer">{{.}}</a>{{end}}</dd>
{{- end}}{{end}}
</dl>
{{- end}}
</section>
<section id="data">
<h2>{{.L.SecData}}</h2>
<h3 id="identities">{{.L.SecIdentities}}</h3>
{{- if .Identities}}
<table>
<tr><th>{{.L.Kind}}</th><th>{{.L.Value}}</th><th>{{.L.Since}}</th></tr>
{{- range .Identities}}
<tr><td>{{.KindText}}</td><td>{{with .Value}}{{.}}{{else}}—{{end}}</td><td>{{.Since}}</td></tr>
{{- end}}
</table>
{{- else}}
<p>{{.L.None}}</p>
{{- end}}
<h3 id="traits">{{.L.SecTraits}}</h3>
{{- if .TraitRows}}
<table>
<tr><th>{{.L.Attribute}}</th><th>{{.L.Value}}</th></tr>
{{- range .TraitRows}}
<tr><td class="code">{{.Key}}</td><td>{{if .Block}}<pre>{{.Value}}</pre>{{else}}{{.Value}}{{end}}</td></tr>
{{- end}}
</table>
{{- else}}
<p>{{.L.None}}</p>
{{- end}}
<h3 id="consent">{{.L.SecConsent}}</h3>
{{- range .Consent}}
<article>
<dl>
<dt>{{$.L.Receipt}}</dt><dd class="code">{{.ReceiptID}}</dd>
<dt>{{$.L.At}}</dt><dd>{{.At}}</dd>
<dt>{{$.L.Method}}</dt><dd>{{.MethodText}}</dd>
<dt>{{$.L.NoticeVersion}}</dt><dd class="code">{{.NoticeVersion}}</dd>
<dt>{{$.L.LeafIndex}}</dt><dd>{{.LeafIndex}}</dd>
<dt>{{$.L.Choices}}</dt><dd><ul>
{{- range .ChoiceRows}}
<li>{{.Title}} <span class="code">({{.Purpose}})</span>{{$.L.Colon}}{{if .Granted}}{{$.L.Yes}}{{else}}{{$.L.No}}{{end}}</li>
{{- end}}
</ul></dd>
<dt>{{$.L.Proof}}</dt><dd>{{if .Pending}}{{$.L.NoProof}}{{else}}<pre>{{.ProofText}}</pre>{{end}}</dd>
</dl>
</article>
{{- else}}
<p>{{.L.None}}</p>
{{- end}}
<h3 id="state">{{.L.SecState}}</h3>
<table>
<tr><th>{{.L.Purpose}}</th><th>{{.L.Status}}</th><th>{{.L.Receipt}}</th><th>{{.L.Since}}</th></tr>
{{- range .StateRows}}
<tr><td>{{.Title}} <span class="code">({{.Purpose}})</span></td><td>{{.Status}}</td><td class="code">{{with .State.ReceiptID}}{{.}}{{else}}—{{end}}</td><td>{{.State.Since}}</td></tr>
{{- end}}
</table>
<h3 id="derived">{{.L.SecDerived}}</h3>
{{- with .Derived}}
<h4>{{$.L.Interests}}</h4>
{{- if .Interests}}
<table>
<tr><th>{{$.L.Category}}</th><th>{{$.L.Score}}</th><th>{{$.L.Source}}</th></tr>
{{- range .Interests}}
<tr><td>{{.Category}}</td><td>{{.ScoreText}}</td><td>{{.Source}}</td></tr>
{{- end}}
</table>
{{- else}}
<p>{{$.L.None}}</p>
{{- end}}
<h4>{{$.L.Audiences}}</h4>
{{- if .Audiences}}
<ul>
{{- range .Audiences}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- else}}
<p>{{$.L.None}}</p>
{{- end}}
<h4>{{$.L.Retargeting}}</h4>
{{- if .Retargeting}}
<table>
<tr><th>{{$.L.Item}}</th><th>{{$.L.Shown}}</th><th>{{$.L.Until}}</th></tr>
{{- range .Retargeting}}
<tr><td class="code">{{.ItemID}}</td><td>{{.Shown}}</td><td>{{.Until}}</td></tr>
{{- end}}
</table>
{{- else}}
<p>{{$.L.None}}</p>
{{- end}}
{{- end}}
<h3 id="disclosures">{{.L.SecDisclosures}}</h3>
{{- if .Disclosures}}
<table>
<tr><th>{{.L.Recipient}}</th><th>{{.L.At}}</th><th>{{.L.Purpose}}</th><th>{{.L.Categories}}</th></tr>
{{- range .Disclosures}}
<tr><td>{{.RecipientName}}</td><td>{{.At}}</td><td>{{.PurposeTitle}}</td><td>{{range $i, $c := .CategoryTitles}}{{if $i}}{{$.L.ListSep}}{{end}}{{$c}}{{end}}</td></tr>
{{- end}}
</table>
{{- else}}
<p>{{.L.None}}</p>
{{- end}}
<h3 id="requests">{{.L.SecRequests}}</h3>
{{- if .Requests}}
<table>
<tr><th>{{.L.RequestID}}</th><th>{{.L.RequestType}}</th><th>{{.L.Status}}</th><th>{{.L.Received}}</th><th>{{.L.Completed}}</th></tr>
{{- range .Requests}}
<tr><td class="code">{{.ID}}</td><td>{{.TypeText}}</td><td class="code">{{.Status}}</td><td>{{.ReceivedAt}}</td><td>{{.CompletedAt}}</td></tr>
{{- end}}
</table>
{{- else}}
<p>{{.L.None}}</p>
{{- end}}
</section>
<section id="processing">
<h2>{{.L.SecProcessing}}</h2>
{{- range .Processing}}
<article id="purpose-{{.Purpose}}">
<h3>{{.Title}} <span class="code">({{.Purpose}})</span></h3>
<p>{{.Description}}</p>
<dl>
<dt>{{$.L.Status}}</dt><dd>{{.StatusText}}</dd>
<dt>{{$.L.LegalBasis}}</dt><dd>{{.LegalBasisText}}{{if .SeparateConsent}}{{$.L.SeparateConsent}}{{end}}</dd>
{{- with .LIAReference}}
<dt>{{$.L.LIA}}</dt><dd>{{.}}</dd>
{{- end}}
<dt>{{$.L.Retention}}</dt><dd>{{.Retention}}</dd>
</dl>
<table>
<tr><th>{{$.L.Categories}}</th><th>{{$.L.Retention}}</th><th>{{$.L.Source}}</th></tr>
{{- range .Categories}}
<tr><td>{{.Title}}{{if .Sensitive}}{{$.L.Sensitive}}{{end}}</td><td>{{.RetentionDays}} {{$.L.Days}}</td><td>{{.SourceText}}</td></tr>
{{- end}}
</table>
<table>
<tr><th>{{$.L.Recipient}}</th><th>{{$.L.Role}}</th><th>{{$.L.Country}}</th><th>{{$.L.Transfer}}</th></tr>
{{- range .Recipients}}
<tr><td>{{.Name}}{{with .Description}}<br>{{.}}{{end}}</td><td>{{.RoleText}}</td><td>{{.Country}}</td><td>{{.Safeguard}}</td></tr>
{{- end}}
</table>
</article>
{{- end}}
</section>
<section id="rights">
<h2>{{.L.SecRights}}</h2>
{{- with .Rights}}
<table>
<tr><th>{{$.L.Right}}</th><th>{{$.L.Reference}}</th><th>{{$.L.RequestTypeCode}}</th></tr>
{{- range .Items}}
<tr><td><strong>{{.Title}}</strong><br>{{.Description}}</td><td>{{.Reference}}</td><td class="code">{{with .Type}}{{.}}{{else}}—{{end}}</td></tr>
{{- end}}
</table>
<h3>{{$.L.HowTo}}</h3>
<p>{{.HowTo}}</p>
<dl>
<dt>{{$.L.Endpoint}}</dt><dd class="code">{{.Endpoint}}</dd>
</dl>
<h3>{{$.L.Deadline}}</h3>
<p>{{.Deadline}}</p>
<h3>{{$.L.Complaint}}</h3>
<p>{{.Complaint.Text}}{{with .Complaint.Website}} <a href="{{.}}" rel="noopener noreferrer">{{.}}</a>{{end}}</p>
{{- end}}
</section>
<section id="profiling">
<h2>{{.L.SecProfiling}}</h2>
{{- range .Profiling.Text}}
<p>{{.}}</p>
{{- end}}
<p><strong>{{.Profiling.Status}}</strong></p>
{{- with .Profiling.Signals}}
<h3>{{$.L.Signals}}</h3>
<ul>
{{- range .}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- end}}
</section>
{{- with .CCPA}}
<section id="ccpa">
<h2>{{$.L.SecCCPA}}</h2>
<h3>{{$.L.CCPACollected}}</h3>
<ul>
{{- range .CategoriesCollected}}
<li>{{.Title}}{{$.L.Colon}}{{range $i, $c := .DataCategoryTitles}}{{if $i}}{{$.L.ListSep}}{{end}}{{$c}}{{end}}</li>
{{- end}}
</ul>
<h3>{{$.L.CCPASources}}</h3>
<ul>
{{- range .Sources}}
<li>{{.Title}}</li>
{{- end}}
</ul>
<h3>{{$.L.CCPAPurposes}}</h3>
<ul>
{{- range .Purposes}}
<li>{{.Title}}</li>
{{- end}}
</ul>
<h3>{{$.L.CCPAThirdParties}}</h3>
<table>
<tr><th>{{$.L.Recipient}}</th><th>{{$.L.Role}}</th><th>{{$.L.Purpose}}</th><th>{{$.L.Categories}}</th></tr>
{{- range .ThirdParties}}
<tr><td>{{.Name}} ({{.Country}})</td><td>{{.RoleText}}</td><td>{{range $i, $p := .PurposeTitles}}{{if $i}}{{$.L.ListSep}}{{end}}{{$p}}{{end}}</td><td>{{range $i, $c := .CategoryTitles}}{{if $i}}{{$.L.ListSep}}{{end}}{{$c}}{{end}}</td></tr>
{{- end}}
</table>
<h3>{{$.L.CCPASoldShared}}</h3>
<p>{{.SoldOrSharedText}}</p>
</section>
{{- end}}
<section id="events">
<h2>{{.L.SecEvents}}</h2>
<p>{{.L.EventsIntro}}</p>
{{define "person"}}{{with .Name}}{{.}}{{end}}{{with .Email}}, {{.}}{{end}}{{with .Phone}}, {{.}}{{end}}{{with .Address}}, {{.}}{{end}}{{end}}`

// eventHTML is the event template; «Label» stands for a label of the
// locale.
const eventHTML = `
<article id="{{.ID}}">
<h3>{{.Heading}}</h3>
<dl>
<dt>«MessageID»</dt><dd class="code">{{.MessageID}}</dd>
<dt>«Occurred»</dt><dd>{{.OccurredAt}}</dd>
<dt>«Received»</dt><dd>{{.ReceivedAt}}</dd>
<dt>«StoredFor»</dt><dd>{{.Purposes}}</dd>
<dt>«Receipt»</dt><dd class="code">{{.ReceiptID}}</dd>
</dl>
<pre>{{.Payload}}</pre>
</article>`

const footHTML = `
{{- if not .Count}}
<p>{{.L.EventsNone}}</p>
{{- end}}
</section>
</main>
<footer>
<p>{{.L.Footer}}</p>
</footer>
</body>
</html>
`
