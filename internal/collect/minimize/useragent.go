package minimize

// Device is what tact keeps of a user agent. Every field is one of a few
// fixed words, so it identifies no one.
type Device struct {
	Browser string // Chrome, Firefox, Safari, Edge, Opera, Samsung Internet, Other
	OS      string // Windows, macOS, iOS, iPadOS, Android, Linux, ChromeOS, Other
	Class   string // desktop, mobile, tablet, bot, other
}

// Device classes.
const (
	ClassDesktop = "desktop"
	ClassMobile  = "mobile"
	ClassTablet  = "tablet"
	ClassBot     = "bot"
	ClassOther   = "other"
)

// Browser and OS families.
const (
	Other = "Other"

	BrowserChrome  = "Chrome"
	BrowserFirefox = "Firefox"
	BrowserSafari  = "Safari"
	BrowserEdge    = "Edge"
	BrowserOpera   = "Opera"
	BrowserSamsung = "Samsung Internet"

	OSWindows  = "Windows"
	OSMacOS    = "macOS"
	OSIOS      = "iOS"
	OSIPadOS   = "iPadOS"
	OSAndroid  = "Android"
	OSLinux    = "Linux"
	OSChromeOS = "ChromeOS"
)

const maxUserAgentLen = 512 // longer agents are cut; the tokens that matter come early

// The words ParseUserAgent looks for, lower case. All are found in one pass
// over the agent (see scan), so adding a word costs next to nothing.
var (
	// "bot" in Googlebot, bingbot, AhrefsBot, Applebot, … (not after "cu":
	// Cubot makes phones).
	wBot = word("bot")
	// Other automated agents, wherever the words appear.
	botWords = words("crawl", "spider", "slurp", "headless", "lighthouse", "pagespeed", "gtmetrix",
		"pingdom", "uptime", "monitor", "phantomjs", "selenium", "puppeteer", "playwright",
		"facebookexternalhit", "mediapartners-google", "google-inspectiontool", "bingpreview",
		"archive.org", "chatgpt", "perplexity", "claude", "preview", "fetcher", "scanner")
	// HTTP libraries and tools, checked only on agents that do not present
	// themselves as a browser ("Mozilla/…").
	clientWords = words("curl", "wget", "python", "aiohttp", "httpx", "go-http-client", "java",
		"okhttp", "libwww", "lwp", "apache-httpclient", "node-fetch", "undici", "axios", "got ",
		"postman", "insomnia", "httpie", "ruby", "php", "guzzle", "perl", "rust", "reqwest", "dart",
		"scrapy", "powershell", "winhttp", "cfnetwork", "feed", "rss", "http", "fetch")
	// Browsers on Chrome's or Safari's engine that name themselves, in-app
	// browsers and web views: not counted as Chrome or Safari.
	otherBrowserWords = words("yabrowser/", "ucbrowser/", "miuibrowser/", "huaweibrowser/",
		"heytapbrowser/", "vivaldi/", "duckduckgo/", "silk/", "whale/", "qqbrowser/", "baidu",
		"micromessenger/", "fban/", "fbav/", "instagram", "line/", "; wv)", "electron/", "brave",
		"msie ", "trident/")
	// Televisions, consoles and streaming sticks.
	tvWords = words("smart-tv", "smarttv", "tizen", "web0s", "webos", "crkey", "appletv", "apple tv",
		"playstation", "xbox", "nintendo", "roku", "; aft", "bravia", "hbbtv")

	// Operating systems.
	osOtherWords = words("windows phone", "kaios", "tizen", "web0s", "webos")
	wWindows     = word("windows")
	wIPad        = word("ipad")
	iOSWords     = words("iphone", "ipod")
	wCrOS        = word("cros ")
	wAndroid     = word("android")
	macWords     = words("macintosh", "mac os x")
	linuxWords   = words("linux", "x11", "ubuntu", "fedora")

	// Browsers.
	edgeWords    = words("edg/", "edga/", "edgios/", "edge/")
	operaWords   = words("opr/", "opios/", "opt/", "opera")
	wSamsung     = word("samsungbrowser/")
	firefoxWords = words("firefox/", "fxios/")
	chromeWords  = words("crios/", "chrome/", "chromium/")
	wSafari      = word("safari/")
	wVersion     = word("version/")

	// Device classes.
	tabletWords = words("tablet", "kindle", "silk/", "playbook")
	mobileWords = words("mobi", "windows phone", "kaios", "opera mini")
)

// ParseUserAgent reduces a User-Agent header to families and a device
// class. Unknown agents give Other/Other/other; automated agents (crawlers,
// monitors, headless browsers, HTTP libraries) give class bot. An iPad that
// asks for desktop sites sends a Mac agent and is counted as macOS desktop:
// the header cannot tell them apart. It does not allocate.
func ParseUserAgent(ua string) Device {
	if len(ua) > maxUserAgentLen {
		ua = ua[:maxUserAgentLen]
	}
	var buf [maxUserAgentLen]byte
	s := buf[:len(ua)]
	for i := 0; i < len(ua); i++ {
		c := ua[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		s[i] = c
	}
	s = trimSpace(s)
	if len(s) == 0 {
		return Device{Other, Other, ClassOther}
	}
	f := scan(s)
	browserLike := hasPrefix(s, "mozilla/") || hasPrefix(s, "opera/")
	d := Device{OS: osFamily(f)}
	if f.has(wBot) || f.any(botWords) || !browserLike && f.any(clientWords) {
		d.Browser, d.Class = Other, ClassBot
		return d
	}
	if !browserLike {
		// An app's own HTTP stack (Dalvik, Office, …).
		d.Browser, d.Class = Other, ClassOther
		return d
	}
	d.Browser = browserFamily(f, d.OS)
	d.Class = deviceClass(f, d.OS)
	return d
}

func osFamily(f found) string {
	switch {
	case f.any(osOtherWords):
		return Other
	case f.has(wWindows):
		return OSWindows
	case f.has(wIPad):
		return OSIPadOS
	case f.any(iOSWords):
		return OSIOS
	case f.has(wCrOS):
		return OSChromeOS
	case f.has(wAndroid):
		return OSAndroid
	case f.any(macWords):
		return OSMacOS
	case f.any(linuxWords):
		return OSLinux
	}
	return Other
}

func browserFamily(f found, os string) string {
	switch {
	case f.any(edgeWords):
		return BrowserEdge
	case f.any(operaWords):
		return BrowserOpera
	case f.has(wSamsung):
		return BrowserSamsung
	case f.any(otherBrowserWords):
		return Other
	case f.any(firefoxWords):
		return BrowserFirefox
	case f.any(chromeWords):
		return BrowserChrome
	case f.has(wSafari) && f.has(wVersion) && (os == OSMacOS || os == OSIOS || os == OSIPadOS):
		return BrowserSafari
	}
	return Other
}

func deviceClass(f found, os string) string {
	switch {
	case f.any(tvWords):
		return ClassOther
	case os == OSIPadOS, f.any(tabletWords):
		return ClassTablet
	case os == OSIOS, f.any(mobileWords):
		return ClassMobile
	case os == OSAndroid:
		// Android browsers say "Mobile" on phones and leave it out on tablets.
		return ClassTablet
	case os == OSWindows, os == OSMacOS, os == OSLinux, os == OSChromeOS:
		return ClassDesktop
	}
	return ClassOther
}

func trimSpace(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func hasPrefix(s []byte, p string) bool { return len(s) >= len(p) && string(s[:len(p)]) == p }

// The word matcher: every word gets a bit; scan sets the bits of the words
// it finds, looking at each position only at the words that start with the
// two bytes found there.

const maxWords = 192

type found [maxWords / 64]uint64

func (f *found) has(id int) bool { return f[id/64]&(1<<(id%64)) != 0 }

func (f *found) any(set found) bool {
	for i := range f {
		if f[i]&set[i] != 0 {
			return true
		}
	}
	return false
}

var (
	wordList []string
	// buckets[h] lists the words whose first two bytes hash to h; the bit h
	// of nonEmpty says whether there are any.
	buckets  [1 << 10][]uint8
	nonEmpty [len(buckets) / 64]uint64
)

func bucket(a, b byte) int { return (int(a)<<5 ^ int(b)) & (len(buckets) - 1) }

// word registers w (at least two bytes, lower case) and returns its bit.
// Package variables are initialised in order, before init runs, so all words
// are in the buckets before first use.
func word(w string) int {
	for i, x := range wordList {
		if x == w {
			return i
		}
	}
	id := len(wordList)
	if id == maxWords || len(w) < 2 {
		panic("minimize: bad user-agent word " + w)
	}
	wordList = append(wordList, w)
	h := bucket(w[0], w[1])
	buckets[h] = append(buckets[h], uint8(id))
	nonEmpty[h/64] |= 1 << (h % 64)
	return id
}

func words(ws ...string) found {
	var f found
	for _, w := range ws {
		id := word(w)
		f[id/64] |= 1 << (id % 64)
	}
	return f
}

func scan(s []byte) found {
	var f found
	for i := 0; i+1 < len(s); i++ {
		h := bucket(s[i], s[i+1])
		if nonEmpty[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		for _, id := range buckets[h] {
			w := wordList[id]
			if len(s)-i >= len(w) && string(s[i:i+len(w)]) == w {
				if int(id) == wBot && i >= 2 && s[i-2] == 'c' && s[i-1] == 'u' {
					continue // Cubot
				}
				f[id/64] |= 1 << (id % 64)
			}
		}
	}
	return f
}
