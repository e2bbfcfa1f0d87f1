// Package measure counts shop visitors who did not consent, within the
// limits of DESIGN principle 5. It owns the in-memory aggregation, the daily
// salts, the distinct-visitor sketches and the suppression of small counts;
// the caller persists the cells it flushes and leaves out the hits of
// visitors who objected.
//
// The mode comes from the regime (the datamap measurement constants):
//
//   - "off": nothing is counted.
//   - "totals": counts only. There is no visitor notion: Hit.Visitor is
//     ignored and never hashed, no salt exists, and cells carry no sketch.
//     Suppression then approximates distinct contributors by the number of
//     hits, so one visitor with five pageviews passes a threshold of five.
//   - "audience": distinct visitors are estimated as the CNIL exemption for
//     audience measurement allows. Each UTC day has its own random 32-byte
//     salt, made on first use and held only in this process's memory: it is
//     never persisted, logged or exported. A visitor key is hashed with
//     HMAC-SHA256 under the salt of the hit's day, the hash picks one
//     HyperLogLog register and is dropped at once. Salts of days before
//     yesterday are zeroed and released on every Add and Flush, so a salt
//     lives at most 48 hours plus one flush interval; hits for such days
//     are still counted, without a sketch. Because days have different
//     salts, the same visitor on two days cannot be linked.
//
// What leaves the package (Flush) is, per UTC day and dimension value:
// counts, revenue, and HyperLogLog sketches of visitors and of buyers.
// Neither visitor keys, nor hashes, nor salts are stored. A sketch holds
// at most one small rank per register; once the day's salt is gone nobody
// can tell whether a given visitor contributed to it. Within a day, the
// sketches of the cells one visitor touched share that visitor's register;
// across days nothing is shared. A restart loses the salts, so a visitor
// seen before and after it counts twice that day.
//
// Suppress reports a cell's measures only when it has at least a threshold
// of distinct contributors (estimated visitors plus hits counted without a
// visitor), and its orders and revenue only when as many distinct buyers
// ordered. Suppression is per cell: it does not stop a reader from
// subtracting reported cells from a total.
//
// Zeroing is best effort: the Go runtime gives no way to erase every copy a
// value may have left on a stack.
package measure
