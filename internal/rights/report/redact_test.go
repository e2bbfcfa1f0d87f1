package report

import (
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain kept", `{"a":1,"b":"x","c":[true,null,2.5e3]}`, `{"a":1,"b":"x","c":[true,null,2.5e3]}`},
		{"whitespace compacted", "{ \"a\" : [ 1 , 2 ] }\n", `{"a":[1,2]}`},
		{"password", `{"password":"hunter2"}`, `{"password":"[redacted]"}`},
		{"password any type", `{"Password":{"old":"a","new":"b"},"pwd":12345}`, `{"Password":"[redacted]","pwd":"[redacted]"}`},
		{"secret words", `{"newPassword":"a","password_confirmation":"b","client-secret":"c","user.passwd":"d","cvv2":"123","api_key":"k","accessToken":"t"}`,
			`{"newPassword":"[redacted]","password_confirmation":"[redacted]","client-secret":"[redacted]","user.passwd":"[redacted]","cvv2":"[redacted]","api_key":"[redacted]","accessToken":"[redacted]"}`},
		{"not secret", `{"secretary":"Bob","passport_country":"DE","spinach":"yes","pan_size":"28cm","pin_code":"10115"}`,
			`{"secretary":"Bob","passport_country":"DE","spinach":"yes","pan_size":"28cm","pin_code":"10115"}`},
		{"pin alone", `{"pin":"1234","PIN":5678}`, `{"pin":"[redacted]","PIN":"[redacted]"}`},
		{"ssn", `{"ssn":"123-45-6789"}`, `{"ssn":"•••• 6789"}`},
		{"ssn variants", `{"SSN":"123456789","userSSN":"987654321","social_security_number":"111-22-3333","socialSecurityNumber":"444556666"}`,
			`{"SSN":"•••• 6789","userSSN":"•••• 4321","social_security_number":"•••• 3333","socialSecurityNumber":"•••• 6666"}`},
		{"ids", `{"passportNumber":"C01X00T47","nationalID":"AB123456C","tax_id":"DE123456789","idNumber":"110101199003077777","DriverLicense":"B072RRE2I55"}`,
			`{"passportNumber":"•••• 0T47","nationalID":"•••• 456C","tax_id":"•••• 6789","idNumber":"•••• 7777","DriverLicense":"•••• 2I55"}`},
		{"accounts", `{"iban":"GB82 WEST 1234 5698 7654 32","account_number":12345678,"bank-account":"00012345","routingNumber":"021000021","card_number":"4000 0566 5566 5556","creditCard":"5555555555554444","ccNumber":"x","pan":"4012888888881881"}`,
			`{"iban":"•••• 5432","account_number":"•••• 5678","bank-account":"•••• 2345","routingNumber":"•••• 0021","card_number":"•••• 5556","creditCard":"•••• 4444","ccNumber":"••••","pan":"•••• 1881"}`},
		{"short fully masked", `{"ssn":"1234","iban":"","tax_id":"12-3"}`, `{"ssn":"••••","iban":"••••","tax_id":"••••"}`},
		{"mask nested", `{"passport":{"number":"C01X00T47","expires":"2030-01-01","valid":true,"country":null}}`,
			`{"passport":{"number":"•••• 0T47","expires":"•••• 0101","valid":true,"country":null}}`},
		{"mask array", `{"card_number":["4111111111111111","5500005555555559"]}`, `{"card_number":["•••• 1111","•••• 5559"]}`},
		{"secret inside masked", `{"bank_account":{"number":"DE89370400440532013000","password":"x"}}`, `{"bank_account":{"number":"•••• 3000","password":"[redacted]"}}`},
		{"deep", `{"a":[{"b":{"c":{"Password":"x","iban":"DE89370400440532013000"}}}]}`, `{"a":[{"b":{"c":{"Password":"[redacted]","iban":"•••• 3000"}}}]}`},
		{"card in text", `{"note":"card 4111 1111 1111 1111 exp 12/29"}`, `{"note":"card •••• 1111 exp 12/29"}`},
		{"card with dashes", `["4111-1111-1111-1111"]`, `["•••• 1111"]`},
		{"card as number", `{"x":4111111111111111,"y":-4111111111111111}`, `{"x":"•••• 1111","y":"-•••• 1111"}`},
		{"card at top level", `"4111111111111111"`, `"•••• 1111"`},
		{"luhn-invalid kept", `{"order":"4111111111111112","phone":"+49 30 1234 5678"}`, `{"order":"4111111111111112","phone":"+49 30 1234 5678"}`},
		{"long digit run kept", `{"id":"41111111111111111111"}`, `{"id":"41111111111111111111"}`},
		{"iban in text", `{"comment":"pay from DE89 3704 0044 0532 0130 00 please"}`, `{"comment":"pay from •••• 3000 please"}`},
		{"iban compact lower", `{"c":"to de89370400440532013000."}`, `{"c":"to •••• 3000."}`},
		{"iban bad checksum kept", `{"c":"DE88 3704 0044 0532 0130 00"}`, `{"c":"DE88 3704 0044 0532 0130 00"}`},
		{"card in key", `{"4111111111111111":"x"}`, `{"•••• 1111":"x"}`},
		{"escaped digits", `{"n":"\u0034111111111111111"}`, `{"n":"•••• 1111"}`},
		{"escapes kept valid", `{"s":"a\"b\\c\n\u0001\u2028<>&"}`, `{"s":"a\"b\\c\n\u0001\u2028<>&"}`},
		{"escaped key matches", `{"pass\u0077ord":"x"}`, `{"password":"[redacted]"}`},
		{"empty", ``, `null`},
		{"not JSON", `password=hunter2 card=4111111111111111`, `"password=hunter2 card=•••• 1111"`},
		{"invalid UTF-8 not JSON", "\xff{", `"\ufffd{"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(Redact([]byte(tt.in)))
			if got != tt.want {
				t.Errorf("Redact(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("Redact(%s) = %s: not valid JSON", tt.in, got)
			}
		})
	}
}

func TestRedactInvalidUTF8InString(t *testing.T) {
	got := Redact([]byte("{\"a\":\"x\xffy\"}"))
	if !utf8.Valid(got) || !json.Valid(got) {
		t.Errorf("Redact = %q: want valid UTF-8 JSON", got)
	}
}

func TestNormKey(t *testing.T) {
	tests := map[string]string{
		"password":               "_password_",
		"newPassword":            "_new_password_",
		"SSN":                    "_ssn_",
		"userSSN":                "_user_ssn_",
		"HTTPServer":             "_http_server_",
		"card-number":            "_card_number_",
		"Social Security Number": "_social_security_number_",
		"cvv2":                   "_cvv_2_",
		"__x__":                  "_x_",
		"":                       "_",
		"国民id":                   "_国民id_", // non-ASCII letters never split
	}
	for in, want := range tests {
		if got := string(normKey(nil, []byte(in))); got != want {
			t.Errorf("normKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskLast4(t *testing.T) {
	tests := map[string]string{
		"":              "••••",
		"12":            "••••",
		"1234":          "••••",
		"12 34":         "••••",
		"12345":         "•••• 2345",
		"123-45-6789":   "•••• 6789",
		"护照号码E12345678": "•••• 5678",
		"证件号码甲乙丙丁":      "•••• 甲乙丙丁",
	}
	for in, want := range tests {
		if got := maskLast4(in); got != want {
			t.Errorf("maskLast4(%q) = %q, want %q", in, got, want)
		}
	}
}

// cardRun finds maximal runs of digits with single spaces or dashes
// between them; written apart from maskCards so that the check does not
// share its bugs.
var cardRun = regexp.MustCompile(`[0-9](?:[ -]?[0-9])*`)

func luhnRun(s string) string {
	for _, run := range cardRun.FindAllString(s, -1) {
		d := strings.NewReplacer(" ", "", "-", "").Replace(run)
		if len(d) < 13 || len(d) > 19 {
			continue
		}
		sum := 0
		for i := range len(d) {
			v := int(d[len(d)-1-i] - '0')
			if i%2 == 1 {
				v *= 2
				if v > 9 {
					v -= 9
				}
			}
			sum += v
		}
		if sum%10 == 0 {
			return run
		}
	}
	return ""
}

func TestLuhnRunChecker(t *testing.T) {
	if luhnRun("x 4111 1111 1111 1111 y") == "" || luhnRun("4111111111111112") != "" {
		t.Fatal("the test's own Luhn checker is wrong")
	}
}

func TestAppendHTMLEscaped(t *testing.T) {
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	all = append(all, "<script>&\"'é€"...)
	got := appendHTMLEscaped(nil, all)
	if strings.ContainsAny(string(got), "<>\"'\x00") {
		t.Errorf("escaped text holds a special character: %q", got)
	}
	if back := html.UnescapeString(string(got)); back != strings.ReplaceAll(string(all), "\x00", "\uFFFD") {
		t.Errorf("unescaped = %q, want %q", back, all)
	}
}
