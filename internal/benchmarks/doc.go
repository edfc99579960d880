// Package benchmarks holds the process-level benchmarks behind
// BENCHMARKS.md: the built exporter against a bss-simulator process, at the
// sizes of big accounts and at BSS's real quota (`make bench`, figure 6).
// The in-process benchmarks stay beside the code they measure.
package benchmarks
