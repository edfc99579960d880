// Package test checks what the project ships besides the binary: the Helm
// chart (rendered by the real helm and decoded strictly into the Kubernetes
// and Prometheus Operator API types), the container image (built with
// buildah and run with podman), the systemd units (systemd-analyze verify)
// and the tool lists of the Makefile, .ci/run and the README. It is a module
// of its own so that the Kubernetes API modules stay out of the exporter's
// go.mod. The Makefile's chart-test, image-test, systemd-test and
// tool-lists-test targets run it.
package test
