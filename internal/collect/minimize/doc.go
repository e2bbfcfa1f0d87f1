// Package minimize turns what a request reveals into the least that tact
// needs, before anything is stored (DESIGN principle 5, "Minimise"):
//
//   - [Country]: the ISO 3166-1 country of an IP address, from a table
//     embedded in the binary; the address itself is never kept, not even
//     truncated.
//   - [ParseUserAgent]: browser family, OS family and device class; the user
//     agent string is never kept.
//   - [TemplatePath] and [PathFromURL]: URL paths with identifiers replaced by
//     ":id", query and fragment dropped.
//   - [Campaign]: the utm_* values, kept only when they do not look like
//     identifiers ([LooksLikeIdentifier]).
//   - [ReferrerHost]: the host of the referrer, nothing else.
//
// Every function is pure, safe for concurrent use and bounded in the work it
// does on hostile input.
//
// # Country data
//
// The IP → country table is generated (go generate; see internal/gen and
// README.md) from the npm package @ip-location-db/geo-whois-asn-country,
// version 2.3.2026061719 (data dated 2026-06-17, published 2026-08-25), which merges provider
// geofeeds, the five regional registries' WHOIS data and their ASN
// statistics. The package declares CC0-1.0; the registry data it is built
// from is published by the NRO under CC BY 4.0, so tact credits it:
// "IP-to-country data: ip-location-db (sapics), from data of the Number
// Resource Organization (nro.net), CC BY 4.0". Granularity is /24 for IPv4
// and /48 for IPv6.
package minimize

//go:generate go run ./internal/gen -out . ${TACT_IPDB}/geo-whois-asn-country-ipv4.csv ${TACT_IPDB}/geo-whois-asn-country-ipv6.csv
