//go:build amd64 && !purego

package kernels

// vnniQuants sets the AVX-512 VNNI tiles of Q4_0, IQ4_NL, Q4_K, Q5_K and
// Q6_K in k: 4×4 (32-value blocks) and 4×6 tiles for several inputs
// (prefill and batched decode), each weight block unpacked once per tile
// and used for all its inputs. A single input keeps the row loop already
// in k.
func vnniQuants(k *[numDTypes]q8Kernels) {
	k[Q4_0] = q8Kernels{rowsVec: 4, rows: 4, cols: 4, rowLoop: k[Q4_0].rowLoop, tile: tiles(map[[2]int]q8Kern{
		{1, 1}: dotQ40x1x1VNNI, {1, 2}: dotQ40x1x2VNNI, {1, 3}: dotQ40x1x3VNNI, {1, 4}: dotQ40x1x4VNNI,
		{2, 1}: dotQ40x2x1VNNI, {2, 2}: dotQ40x2x2VNNI, {2, 3}: dotQ40x2x3VNNI, {2, 4}: dotQ40x2x4VNNI,
		{4, 1}: dotQ40x4x1VNNI, {4, 2}: dotQ40x4x2VNNI, {4, 3}: dotQ40x4x3VNNI, {4, 4}: dotQ40x4x4VNNI,
	})}
	k[IQ4_NL] = q8Kernels{rowsVec: 4, rows: 4, cols: 4, rowLoop: k[IQ4_NL].rowLoop, tile: tiles(map[[2]int]q8Kern{
		{1, 1}: dotIQ4NLx1x1VNNI, {1, 2}: dotIQ4NLx1x2VNNI, {1, 3}: dotIQ4NLx1x3VNNI, {1, 4}: dotIQ4NLx1x4VNNI,
		{2, 1}: dotIQ4NLx2x1VNNI, {2, 2}: dotIQ4NLx2x2VNNI, {2, 3}: dotIQ4NLx2x3VNNI, {2, 4}: dotIQ4NLx2x4VNNI,
		{4, 1}: dotIQ4NLx4x1VNNI, {4, 2}: dotIQ4NLx4x2VNNI, {4, 3}: dotIQ4NLx4x3VNNI, {4, 4}: dotIQ4NLx4x4VNNI,
	})}
	k[Q4_K] = q8Kernels{rowsVec: 4, rows: 4, cols: 6, rowLoop: k[Q4_K].rowLoop, tile: tiles(map[[2]int]q8Kern{
		{1, 1}: dotQ4Kx1x1VNNI, {1, 2}: dotQ4Kx1x2VNNI, {1, 3}: dotQ4Kx1x3VNNI, {1, 4}: dotQ4Kx1x4VNNI, {1, 5}: dotQ4Kx1x5VNNI, {1, 6}: dotQ4Kx1x6VNNI,
		{2, 1}: dotQ4Kx2x1VNNI, {2, 2}: dotQ4Kx2x2VNNI, {2, 3}: dotQ4Kx2x3VNNI, {2, 4}: dotQ4Kx2x4VNNI, {2, 5}: dotQ4Kx2x5VNNI, {2, 6}: dotQ4Kx2x6VNNI,
		{4, 1}: dotQ4Kx4x1VNNI, {4, 2}: dotQ4Kx4x2VNNI, {4, 3}: dotQ4Kx4x3VNNI, {4, 4}: dotQ4Kx4x4VNNI, {4, 5}: dotQ4Kx4x5VNNI, {4, 6}: dotQ4Kx4x6VNNI,
	})}
	k[Q5_K] = q8Kernels{rowsVec: 4, rows: 4, cols: 6, rowLoop: k[Q5_K].rowLoop, tile: tiles(map[[2]int]q8Kern{
		{1, 1}: dotQ5Kx1x1VNNI, {1, 2}: dotQ5Kx1x2VNNI, {1, 3}: dotQ5Kx1x3VNNI, {1, 4}: dotQ5Kx1x4VNNI, {1, 5}: dotQ5Kx1x5VNNI, {1, 6}: dotQ5Kx1x6VNNI,
		{2, 1}: dotQ5Kx2x1VNNI, {2, 2}: dotQ5Kx2x2VNNI, {2, 3}: dotQ5Kx2x3VNNI, {2, 4}: dotQ5Kx2x4VNNI, {2, 5}: dotQ5Kx2x5VNNI, {2, 6}: dotQ5Kx2x6VNNI,
		{4, 1}: dotQ5Kx4x1VNNI, {4, 2}: dotQ5Kx4x2VNNI, {4, 3}: dotQ5Kx4x3VNNI, {4, 4}: dotQ5Kx4x4VNNI, {4, 5}: dotQ5Kx4x5VNNI, {4, 6}: dotQ5Kx4x6VNNI,
	})}
	k[Q6_K] = q8Kernels{rowsVec: 4, rows: 4, cols: 6, rowLoop: k[Q6_K].rowLoop, tile: tiles(map[[2]int]q8Kern{
		{1, 1}: dotQ6Kx1x1VNNI, {1, 2}: dotQ6Kx1x2VNNI, {1, 3}: dotQ6Kx1x3VNNI, {1, 4}: dotQ6Kx1x4VNNI, {1, 5}: dotQ6Kx1x5VNNI, {1, 6}: dotQ6Kx1x6VNNI,
		{2, 1}: dotQ6Kx2x1VNNI, {2, 2}: dotQ6Kx2x2VNNI, {2, 3}: dotQ6Kx2x3VNNI, {2, 4}: dotQ6Kx2x4VNNI, {2, 5}: dotQ6Kx2x5VNNI, {2, 6}: dotQ6Kx2x6VNNI,
		{4, 1}: dotQ6Kx4x1VNNI, {4, 2}: dotQ6Kx4x2VNNI, {4, 3}: dotQ6Kx4x3VNNI, {4, 4}: dotQ6Kx4x4VNNI, {4, 5}: dotQ6Kx4x5VNNI, {4, 6}: dotQ6Kx4x6VNNI,
	})}
}
