package sparsity_test

import (
	"fmt"

	"sieve/sparsity"
)

func Example() {
	// Server settings, then one request's override.
	server, err := sparsity.ParseSpec("layered", 1024, "")
	if err != nil {
		panic(err)
	}
	spec, err := server.Override("h2o", 8)
	if err != nil {
		panic(err)
	}
	// At admission: 2 layers, prompt + max_tokens = 100, blocks of 4 slots.
	plan, err := spec.Plan(2, 100, 4)
	if err != nil {
		panic(err)
	}
	fmt.Println(spec, plan.Layers)

	// After a step, layer 1 holds 12 slots: one block over its budget.
	positions := []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	scores := []float32{3, 1, 0, 5, 0, 2, 0, 0, 1, 0, 0, 0}
	if plan.Evict(1, len(positions)) {
		keep := sparsity.Keep(nil, positions, scores, plan.Layers[1])
		fmt.Println(keep)
	}
	// Output:
	// h2o budget=8 sink=4 window=auto [4+2+2 4+2+2]
	// [0 1 2 3 5 8 10 11]
}
