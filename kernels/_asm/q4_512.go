package main

// smallQuant512Kernels generates the AVX-512 kernels of the 32-value-block
// types other than Q8_0.
func smallQuant512Kernels() {}
