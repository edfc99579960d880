// Package dashboards ships no Go code. The directory holds what users load
// into Grafana, Prometheus and Alertmanager: dashboards (grafana/*.json),
// recording and alerting rules (rules/*.yml) and example configurations
// (examples/). The package's tests check them with promtool and amtool, and
// end to end with a real Prometheus and Alertmanager scraping the exporter
// in demo mode. README.md documents the alerts and their runbooks.
package dashboards
