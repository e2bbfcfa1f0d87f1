package datamap

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// diff returns "" when want and got are deeply equal, else their
// differing lines as -want +got. It stands in for go-cmp, which the
// module's go.mod does not currently require.
func diff(want, got any) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	w, g := render(want), render(got)
	if w == g { // equal renderings: the difference is nil against empty
		return fmt.Sprintf("-%#v\n+%#v", want, got)
	}
	wl, gl := strings.Split(w, "\n"), strings.Split(g, "\n")
	// Longest common subsequence of lines, for a readable diff.
	n, m := len(wl), len(gl)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if wl[i] == gl[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && wl[i] == gl[j]:
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			fmt.Fprintf(&b, "+%s\n", gl[j])
			j++
		default:
			fmt.Fprintf(&b, "-%s\n", wl[i])
			i++
		}
	}
	return b.String()
}

func render(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}
