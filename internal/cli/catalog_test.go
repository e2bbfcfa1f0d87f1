package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tact-cdp/tact/internal/testenv"
)

func TestCatalogImport(t *testing.T) {
	for _, st := range testenv.Stores() {
		t.Run(st.Name, func(t *testing.T) {
			inst := st.New(t)
			dir := t.TempDir()
			good := filepath.Join(dir, "items.csv")
			os.WriteFile(good, []byte("id,name,category,price,currency,available,sensitive\n85123A,White hanging heart,Home décor/Candles,2.55,GBP,true,false\nV-1,Vitamin D,Health/Vitamins,4.99,GBP,true,false\n"), 0o644)
			code, out, errOut := run(t, append([]string{"catalog", "import", good, "--quiet"}, inst.Args...)...)
			if code != 0 || !strings.Contains(out, "imported 2 items") {
				t.Fatalf("import: %d %s%s", code, out, errOut)
			}
			mixed := filepath.Join(dir, "items.jsonl")
			os.WriteFile(mixed, []byte(`{"id":"a","name":"A","category":"Home"}`+"\n"+`{"id":"b","name":"B","category":"Home","price":-1}`+"\n"), 0o644)
			code, out, errOut = run(t, append([]string{"catalog", "import", mixed, "--quiet"}, inst.Args...)...)
			if code != 1 || !strings.Contains(out, "imported 1 items (1 lines skipped)") || !strings.Contains(errOut, "line 2") {
				t.Errorf("a file with a bad line: %d %s%s", code, out, errOut)
			}
			xml := filepath.Join(dir, "items.xml")
			os.WriteFile(xml, []byte("<items/>"), 0o644)
			if code, _, errOut = run(t, append([]string{"catalog", "import", xml}, inst.Args...)...); code == 0 || !strings.Contains(errOut, "format") {
				t.Errorf("unknown format: %d %s", code, errOut)
			}
			a := openApp(t, inst.Args)
			it, err := a.Catalog.Item(context.Background(), "V-1")
			if err != nil || it.PriceCents != 499 || !a.Catalog.Sensitive(it) || it.Source != "import" {
				t.Errorf("imported item %+v %v (sensitive by category: %v)", it, err, a.Catalog.Sensitive(it))
			}
		})
	}
}
