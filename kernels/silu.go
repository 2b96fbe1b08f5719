package kernels

// siluBlock is how many values SiLUMul exponentiates at a time.
const siluBlock = 256

// SiLUMul sets gate[i] = silu(gate[i]) * up[i], where silu(g) =
// g / (1 + exp32(-g)).
func SiLUMul(gate, up []float32) { siluMul(active, gate, up) }

func siluMul(im *impl, gate, up []float32) {
	up = up[:len(gate)]
	var e [siluBlock]float32
	for i0 := 0; i0 < len(gate); i0 += siluBlock {
		g := gate[i0:min(i0+siluBlock, len(gate))]
		for j, v := range g {
			e[j] = -v
		}
		expSlice(im, e[:len(g)], e[:len(g)])
		for j, v := range g {
			g[j] = v / (1 + e[j]) * up[i0+j]
		}
	}
}
