// Package benchmarks holds the process-level benchmarks behind
// BENCHMARKS.md, those that run against a bss-simulator process: the
// collectors' peak heap at one to a million rows a day (figure 4), and the
// built exporter at the sizes of big accounts and at BSS's real quota
// (figure 6). The in-process benchmarks stay beside the code they measure.
package benchmarks
