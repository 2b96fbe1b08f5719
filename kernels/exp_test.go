package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// ulps returns the distance in units of the last place between a and b.
func ulps(a, b float32) int64 {
	d := int64(math.Float32bits(a)) - int64(math.Float32bits(b))
	if d < 0 {
		d = -d
	}
	return d
}

func TestExp32Accuracy(t *testing.T) {
	worst := int64(0)
	for x := float32(-87); x < 88; x += 0.000731 {
		want := float32(math.Exp(float64(x)))
		if d := ulps(exp32(x), want); d > worst {
			worst = d
		}
	}
	if worst > 2 {
		t.Errorf("exp32 is off by up to %d ulp", worst)
	}
	cases := map[float32]float32{0: 1, -100: 0, float32(math.Inf(-1)): 0, -87.5: 0}
	for x, want := range cases {
		if got := exp32(x); got != want {
			t.Errorf("exp32(%v) = %v, want %v", x, got, want)
		}
	}
	if got := exp32(1000); got != exp32(88) {
		t.Errorf("exp32(1000) = %v, want exp32(88)", got)
	}
	if got := exp32(float32(math.NaN())); got == got {
		t.Errorf("exp32(NaN) = %v", got)
	}
}

func TestExpAllImplementations(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	src := make([]float32, 16*64+5)
	for i := range src {
		src[i] = float32(r.NormFloat64() * 30)
	}
	src[3], src[4], src[5] = float32(math.Inf(-1)), 200, -90
	src[6] = float32(math.NaN())
	want := make([]float32, len(src))
	genericExp(want, src)
	for _, im := range supportedImpls()[1:] {
		got := make([]float32, len(src))
		expSlice(im, got, src)
		for i := range want {
			if want[i] != want[i] && got[i] != got[i] {
				continue
			}
			sameBits(t, fmt.Sprintf("%s exp(%v)", im.name, src[i]), got[i:i+1], want[i:i+1])
		}
	}
}

func TestElementwiseAllImplementations(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, n := range []int{1, 7, 16, 100, 300, 1000} {
		x := randFloats(r, n)
		up := randFloats(r, n)
		w := randFloats(r, n)
		for i := range x {
			x[i] *= 4
		}
		ref := func(im *impl) (sm, sl, rn []float32) {
			sm = append([]float32(nil), x...)
			softmax(im, sm)
			sl = append([]float32(nil), x...)
			siluMul(im, sl, up)
			rn = make([]float32, n)
			rmsNorm(im, rn, x, w, 1e-5)
			return
		}
		wsm, wsl, wrn := ref(genericImpl)
		for _, im := range supportedImpls()[1:] {
			sm, sl, rn := ref(im)
			sameBits(t, fmt.Sprintf("%s softmax n=%d", im.name, n), sm, wsm)
			sameBits(t, fmt.Sprintf("%s silu n=%d", im.name, n), sl, wsl)
			sameBits(t, fmt.Sprintf("%s rmsnorm n=%d", im.name, n), rn, wrn)
		}
		// Accuracy of the reference against float64.
		var mx, sum float64 = math.Inf(-1), 0
		for _, v := range x {
			mx = math.Max(mx, float64(v))
		}
		for _, v := range x {
			sum += math.Exp(float64(v) - mx)
		}
		for i, v := range x {
			want := math.Exp(float64(v)-mx) / sum
			if math.Abs(float64(wsm[i])-want) > 4e-6*want+1e-30 { // x-max rounds by up to ulp(x)/2
				t.Fatalf("softmax[%d] = %v, want %v", i, wsm[i], want)
			}
			g := float64(v)
			sw := g / (1 + math.Exp(-g)) * float64(up[i])
			if math.Abs(float64(wsl[i])-sw) > 1e-6*math.Abs(sw)+1e-30 {
				t.Fatalf("silu[%d] = %v, want %v", i, wsl[i], sw)
			}
		}
	}
}
