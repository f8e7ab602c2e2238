# bench/: benchmarks; each prints lines "name: value unit".  `make bench`.
