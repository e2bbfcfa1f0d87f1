// Package eval is the offline evaluation of the recommendation model
// (`tact eval recs`): it replays an order history — the UCI "Online Retail"
// CSV — through package recommend, trains on the purchases before a
// cut-off date and measures, for the customers who come back after it, how
// well the top K finds the items they then bought for the first time. Four
// baselines it computes itself stand beside the model: global popularity,
// popularity without the customer's bought items, the last 30 days'
// popularity without them, and item-kNN with cosine similarity on
// co-buyers.
//
// The protocol: train on purchases before the cut-off; test customers are
// those who bought before it and, after it (to the end of the file), at
// least one item they had not bought before; the wanted items are those
// new items. HR@K is the share of test customers with at least one wanted
// item in their top K; Recall@K the mean share of a customer's wanted
// items in it; NDCG@K the mean DCG (binary gain, log2 discount) over the
// ideal DCG of min(wanted, K) hits; coverage the share of the items bought
// before the cut-off that appear in at least one top K.
package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/tact-cdp/tact/internal/recommend"
)

// Options of a run.
type Options struct {
	Orders string    // path of the Online Retail CSV, gzip or plain
	Cutoff time.Time // train before, test from
	Until  time.Time // end of the test window; zero: the end of the history
	K      int       // length of the lists measured (default 10)

	// Config is the model's (zero: the defaults, as tact serve runs it).
	Config recommend.Config

	// Data, when not nil, is used instead of reading Orders.
	Data *Orders
	// Progress, when not nil, is called while Orders is read with the
	// bytes read and the file's size.
	Progress func(read, size int64)
}

// Table is the result of a run.
type Table struct {
	Cutoff    time.Time
	Until     time.Time // zero: the end of the history
	K         int
	First     time.Time // the first purchase of the history
	Last      time.Time // the last one
	Train     int       // purchases before the cut-off
	Customers int       // test customers
	Catalogue int       // items bought before the cut-off
	Rows      []Row     // the model first, then the baselines
}

// Row is one model's measures.
type Row struct {
	Name string
	Metrics
}

// ModelName is the name of the model's row.
const ModelName = "tact recommend"

// Run evaluates the model and the baselines.
func Run(ctx context.Context, opt Options) (Table, error) {
	if opt.K <= 0 {
		opt.K = 10
	}
	if opt.K > recommend.MaxLimit {
		return Table{}, fmt.Errorf("k is at most %d", recommend.MaxLimit)
	}
	if opt.Cutoff.IsZero() {
		return Table{}, errors.New("a cut-off date is needed")
	}
	o := opt.Data
	if o == nil {
		var err error
		if o, err = LoadFile(opt.Orders, opt.Progress); err != nil {
			return Table{}, err
		}
	}
	s := NewSplit(o, opt.Cutoff, opt.Until)
	t := Table{Cutoff: opt.Cutoff, Until: opt.Until, K: opt.K, Train: len(s.Train), Customers: len(s.Tests), Catalogue: s.Catalogue,
		First: time.Unix(o.Purchases[0].At, 0).UTC(), Last: time.Unix(o.Purchases[len(o.Purchases)-1].At, 0).UTC()}
	if len(s.Train) == 0 || len(s.Tests) == 0 {
		return t, fmt.Errorf("nothing to evaluate: %d purchases before %s and %d returning customers after it",
			len(s.Train), opt.Cutoff.Format(time.DateOnly), len(s.Tests))
	}

	model, err := Train(ctx, s, opt.Config)
	if err != nil {
		return t, err
	}
	rankers := []struct {
		name string
		r    ranker
	}{
		{ModelName, &modelRanker{s: s, m: model}},
		{"popularity", newPopularity(s, time.Time{}, false)},
		{"popularity, not bought", newPopularity(s, time.Time{}, true)},
		{"popularity last 30 days, not bought", newPopularity(s, opt.Cutoff.AddDate(0, 0, -30), true)},
		{"item-kNN cosine, not bought", newItemKNN(s)},
	}
	for _, r := range rankers {
		m, err := measure(ctx, s, r.r, opt.K)
		if err != nil {
			return t, err
		}
		t.Rows = append(t.Rows, Row{Name: r.name, Metrics: m})
	}
	return t, nil
}

// Train builds the model from the split's training purchases, as tact
// serve would from purchase events: every product bought before the
// cut-off is in the catalogue view (without categories: the data set has
// none), every purchase line is a purchase event of its customer.
func Train(ctx context.Context, s *Split, cfg recommend.Config) (*recommend.Model, error) {
	if cfg.Now == nil {
		cutoff := s.Cutoff
		cfg.Now = func() time.Time { return cutoff }
	}
	m := recommend.New(cfg)
	listed := make([]bool, len(s.Orders.Products))
	for n, p := range s.Train {
		if n%10000 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !listed[p.Item] {
			listed[p.Item] = true
			pr := s.Orders.Products[p.Item]
			if err := m.PutItem(recommend.Item{ID: pr.Code, Name: pr.Name}); err != nil {
				return nil, err
			}
		}
		err := m.Add(recommend.Event{Shopper: s.Orders.Customers[p.Customer], Item: s.Orders.Products[p.Item].Code,
			Kind: recommend.Purchase, At: time.Unix(p.At, 0)})
		if err != nil {
			return nil, err
		}
	}
	m.Refresh()
	return m, nil
}

// modelRanker asks the model for a customer's home-page recommendations
// at the cut-off.
type modelRanker struct {
	s     *Split
	m     *recommend.Model
	index map[string]int32
}

func (r *modelRanker) rank(c int32, k int) []int32 {
	if r.index == nil {
		r.index = make(map[string]int32, len(r.s.Orders.Products))
		for i, p := range r.s.Orders.Products {
			r.index[p.Code] = int32(i)
		}
	}
	a := r.m.Recommend(recommend.Query{Placement: recommend.Home, Shopper: r.s.Orders.Customers[c], Limit: k, Now: r.s.Cutoff})
	out := make([]int32, 0, len(a.Items))
	for _, it := range a.Items {
		out = append(out, r.index[it.ID])
	}
	return out
}

func measure(ctx context.Context, s *Split, r ranker, k int) (Metrics, error) {
	a := newMetricsAcc(k, s.Catalogue)
	for n, t := range s.Tests {
		if n%256 == 0 && ctx.Err() != nil {
			return Metrics{}, ctx.Err()
		}
		a.add(r.rank(t.Customer, k), t.Want)
	}
	return a.metrics(), nil
}

// Print writes the table for people.
func (t Table) Print(w io.Writer) error {
	until := "the end"
	if !t.Until.IsZero() {
		until = "before " + t.Until.Format(time.DateOnly)
	}
	fmt.Fprintf(w, "order history %s to %s; cut-off %s\n", t.First.Format(time.DateOnly), t.Last.Format(time.DateOnly), t.Cutoff.Format(time.DateOnly))
	fmt.Fprintf(w, "trained on %d purchases before the cut-off (catalogue: %d items)\n", t.Train, t.Catalogue)
	fmt.Fprintf(w, "measured on %d returning customers: the items each bought from the cut-off to %s and not before\n\n", t.Customers, until)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	k := t.K
	fmt.Fprintf(tw, "model\tNDCG@%d\tHR@%d\tRecall@%d\tcoverage\n", k, k, k)
	for _, r := range t.Rows {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%.3f\n", r.Name, r.NDCG, r.HR, r.Recall, r.Coverage)
	}
	return tw.Flush()
}
