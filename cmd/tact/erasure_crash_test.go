package main

// TestErasureResumesAfterSIGKILL checks that an erasure (DESIGN 5.4,
// principle 6) killed half-way completes after a restart and leaves nothing
// of the shopper readable: `tact serve` is SIGKILLed while it purges a
// shopper with many events; the restarted server finishes the request, the
// shopper's events are gone, another shopper's are intact, and the ledger
// verifies.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const erasureEvents = 40000

func TestErasureResumesAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and runs the binary; skipped with -short")
	}
	bin := buildTact(t)
	stores := ingestStores()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			erasureCrash(ctx, t, bin, st.open(t))
		})
	}
}

func erasureCrash(ctx context.Context, t *testing.T, bin string, st ingestStore) {
	serverKey := strings.TrimSpace(runTact(ctx, t, bin, 0, append([]string{"keys", "create", "--kind", "server"}, st.args...)...))
	admin := strings.TrimSpace(runTact(ctx, t, bin, 0, append([]string{"tokens", "create", "--role", "admin"}, st.args...)...))
	srv := startTact(ctx, t, bin, st.args)
	notice := noticeVersion(ctx, t, srv.addr)
	client := &http.Client{Timeout: 30 * time.Second}
	post := func(path string, body any, want int) map[string]any {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+srv.addr+path, strings.NewReader(string(raw)))
		req.SetBasicAuth(serverKey, "")
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
		var out map[string]any
		json.Unmarshal(b, &out)
		return out
	}
	for _, u := range []string{"erase-me", "keep-me"} {
		post("/v1/consent", map[string]any{"userId": u, "noticeVersion": notice, "method": "api", "choices": map[string]bool{"analytics": true}}, 201)
	}
	for b := 0; b < erasureEvents/500; b++ {
		evs := make([]map[string]any, 500)
		for i := range evs {
			evs[i] = map[string]any{"type": "track", "event": "Product Viewed", "userId": "erase-me",
				"messageId": fmt.Sprintf("er-%d-%d", b, i), "properties": map[string]any{"product_id": "P1", "name": "A lamp"}}
		}
		post("/v1/batch", map[string]any{"batch": evs}, 200)
	}
	post("/v1/batch", map[string]any{"batch": []map[string]any{{"type": "track", "event": "Product Viewed", "userId": "keep-me", "messageId": "kept-1", "properties": map[string]any{"product_id": "P2"}}}}, 200)

	db, err := sql.Open(st.driver, st.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var subjectID string
	if err := db.QueryRowContext(ctx, "SELECT subject_id FROM events WHERE message_id = 'er-0-0'").Scan(&subjectID); err != nil {
		t.Fatal(err)
	}

	filed := post("/v1/requests", map[string]any{"type": "erasure", "userId": "erase-me"}, 202)
	id, token := filed["requestId"].(string), filed["requestToken"].(string)

	// Kill the server as soon as the erasure is under way (keys shredded,
	// events being purged).
	q := "SELECT status, step FROM requests WHERE id = ?"
	if st.driver == "pgx" {
		q = "SELECT status, step FROM requests WHERE id = $1"
	}
	var status string
	var step int
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := db.QueryRowContext(ctx, q, id).Scan(&status, &step); err != nil {
			t.Fatal(err)
		}
		if (status == "in_progress" && step >= 2) || status == "completed" || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	srv.kill(t)
	var left int
	db.QueryRowContext(ctx, strings.Replace("SELECT COUNT(*) FROM events WHERE subject_id = ?", "?", placeholder(st.driver), 1), subjectID).Scan(&left)
	t.Logf("killed with the request %s at step %d, %d of %d events not yet purged", status, step, left, erasureEvents)
	if status != "in_progress" {
		t.Fatalf("the kill came too late (request %s): the test proved nothing", status)
	}

	srv = startTact(ctx, t, bin, st.args)
	var out map[string]any
	for deadline := time.Now().Add(90 * time.Second); ; {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+srv.addr+"/v1/requests/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out = nil
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if out["status"] == "completed" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out["status"] != "completed" {
		t.Fatalf("after the restart the erasure did not complete: %v\nstderr: %s", out, srv.logs)
	}
	if err := db.QueryRowContext(ctx, strings.Replace("SELECT COUNT(*) FROM events WHERE subject_id = ?", "?", placeholder(st.driver), 1), subjectID).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d events of the erased shopper left (%v)", left, err)
	}
	var keys int
	db.QueryRowContext(ctx, strings.Replace("SELECT COUNT(*) FROM subject_keys WHERE subject_id = ?", "?", placeholder(st.driver), 1), subjectID).Scan(&keys)
	if keys != 0 {
		t.Errorf("%d data keys of the erased shopper left", keys)
	}
	for _, c := range []struct {
		user string
		want int
	}{{"erase-me", 404}, {"keep-me", 200}} {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+srv.addr+"/admin/api/subjects?userId="+c.user, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("X-Tact-Purpose", "dsr")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET /admin/api/subjects?userId=%s: %d, want %d", c.user, resp.StatusCode, c.want)
		}
	}
	srv.stop(ctx, t)
	runTact(ctx, t, bin, 0, append([]string{"ledger", "verify", "--quiet"}, st.args...)...)
	runTact(ctx, t, bin, 0, append([]string{"audit", "verify", "--quiet"}, st.args...)...)
}

func placeholder(driver string) string {
	if driver == "pgx" {
		return "$1"
	}
	return "?"
}
