package main

import "testing"

func TestServeTargets(t *testing.T) {
	ts, err := serveTargets("http://a:1,http://b:2", "", "full,h2o", "0.25")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		url, label, policy string
		budget             float64
	}{{"http://a:1", "a:1/full", "full", 0}, {"http://a:1", "a:1/h2o", "h2o", 0.25}, {"http://b:2", "b:2/full", "full", 0}, {"http://b:2", "b:2/h2o", "h2o", 0.25}}
	if len(ts) != len(want) {
		t.Fatalf("%d targets, want %d", len(ts), len(want))
	}
	for i, w := range want {
		if g := ts[i]; g.URL != w.url || g.Label != w.label || g.KVPolicy != w.policy || g.KVBudget != w.budget {
			t.Errorf("target %d = %+v, want %+v", i, g, w)
		}
	}
	ts, err = serveTargets("http://a:1", "dense,sparse", "full,layered", "")
	if err != nil || ts[0].Label != "dense" || ts[1].Label != "sparse" {
		t.Errorf("labels: %+v, %v", ts, err)
	}
	for _, bad := range [][4]string{{"a:1", "", "", ""}, {"http://a:1", "x,y", "", ""}, {"http://a:1", "", "lru", ""}, {"http://a:1", "", "h2o", "-1"}} {
		if _, err := serveTargets(bad[0], bad[1], bad[2], bad[3]); err == nil {
			t.Errorf("serveTargets%q accepted", bad)
		}
	}
}
