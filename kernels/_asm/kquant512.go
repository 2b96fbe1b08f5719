package main

// kquant512Kernels generates the AVX-512 kernels of the 256-value-block
// types.
func kquant512Kernels() {}
