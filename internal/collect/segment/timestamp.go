package segment

import "time"

// parseTime reads the ISO 8601 / RFC 3339 forms SDKs send:
//
//	2024-05-01
//	2024-05-01T10:20:30Z            (T, t or a space between date and time)
//	2024-05-01T10:20                (seconds optional)
//	2024-05-01T10:20:30.123456789Z  (any number of fraction digits; beyond ns truncated)
//	2024-05-01T10:20:30+02:00       (also +0200, +02, z; no zone means UTC)
//
// The result is in UTC. It allocates nothing, unlike trying several
// time.Parse layouts in turn.
func parseTime(s string) (time.Time, bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return time.Time{}, false
	}
	s = s[10:]
	var hour, minute, sec, nsec int
	if len(s) > 0 {
		if s[0] != 'T' && s[0] != 't' && s[0] != ' ' {
			return time.Time{}, false
		}
		s = s[1:]
		var ok bool
		if len(s) < 5 || s[2] != ':' {
			return time.Time{}, false
		}
		if hour, ok = digits(s[0:2]); !ok || hour > 23 {
			return time.Time{}, false
		}
		if minute, ok = digits(s[3:5]); !ok || minute > 59 {
			return time.Time{}, false
		}
		s = s[5:]
		if len(s) >= 3 && s[0] == ':' {
			if sec, ok = digits(s[1:3]); !ok || sec > 59 {
				return time.Time{}, false
			}
			s = s[3:]
			if len(s) >= 2 && (s[0] == '.' || s[0] == ',') && isDigit(s[1]) {
				i, scale := 1, 100000000
				for ; i < len(s) && isDigit(s[i]); i++ {
					nsec += int(s[i]-'0') * scale
					scale /= 10
				}
				s = s[i:]
			}
		}
	}
	offset := 0
	switch {
	case s == "" || s == "Z" || s == "z":
	case s[0] == '+' || s[0] == '-':
		var oh, om int
		var ok bool
		switch len(s) {
		case 3: // +hh
			oh, ok = digits(s[1:3])
		case 5: // +hhmm
			oh, ok = digits(s[1:3])
			if ok {
				om, ok = digits(s[3:5])
			}
		case 6: // +hh:mm
			oh, ok = digits(s[1:3])
			if ok && s[3] == ':' {
				om, ok = digits(s[4:6])
			} else {
				ok = false
			}
		}
		if !ok || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = oh*3600 + om*60
		if s[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
