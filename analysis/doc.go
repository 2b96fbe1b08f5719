// Package analysis measures what a model does with its residual stream and
// its attention, and turns the measurements into per-layer KV budgets.
//
// [Run] feeds token sequences through the model once each, with the dense
// reference cache, and records:
//
//   - activations: the residual stream after every layer, its largest
//     absolute values and their ratio to the layer's median |h|, the
//     "massive" entries (at least Options.Ratio times the median), the
//     dimensions they sit in and the tokens that carry them;
//   - attention (optional): for every layer and KV head, the mass the
//     queries put on the first token, on the massive-activation tokens and
//     on the most recent keys, the entropy, and how many keys cover 90% and
//     95% of the mass, plus per layer the mass the best k keys retain.
//
// Attention weights come from the dense cache's explicit recomputation
// (llama.DenseCache.Weights), not from the paged kernel, so serving pays
// nothing for the analysis. [Calibrate] turns the attention statistics into
// a layered sparsity profile, and the Write functions render tables, JSON
// and pictures.
package analysis
