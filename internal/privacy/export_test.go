package privacy

// Texts exposes the center's strings to the tests.
func Texts(locale string) map[string]string { return texts[locale] }
