package collector

import (
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/bssclient"
)

// SeriesCounter counts the series bill rows become in a day-book
// collector, labelled as the collector labels them under cfg, rows of one
// series summed and all-zero sums left out as its snapshots leave them out:
// doctor counts an account's series from its rows the way the exporter will.
// One counter counts one bill (one day or one cycle); the Add method of
// another collector's bill panics.
type SeriesCounter struct {
	agg       *aggregate
	labels    []string
	instance  *instanceReader
	ossbucket *ossBucketReader
}

// NewSeriesCounter returns an empty counter for the collectors configured
// by cfg.
func NewSeriesCounter(cfg Config) *SeriesCounter {
	return &SeriesCounter{
		agg:       newAggregate(),
		instance:  &instanceReader{cfg: cfg, labels: instanceLabelsOf(cfg)},
		ossbucket: &ossBucketReader{cfg: cfg},
	}
}

// AddAccountRow counts a QueryAccountBill row of the account collector.
func (c *SeriesCounter) AddAccountRow(it *bssclient.AccountBillItem) error {
	c.labels = resize(c.labels, 4)
	accountLabelsOf(it, c.labels)
	return c.agg.add(c.labels, it.Amounts)
}

// AddInstanceRow counts a DescribeInstanceBill row of the instance collector.
func (c *SeriesCounter) AddInstanceRow(it *bssclient.InstanceBillItem) error {
	c.labels = c.instance.labelsOf(it, c.labels)
	return c.agg.add(c.labels, it.Amounts)
}

// AddBucketRow counts a DescribeSplitItemBill row of the ossbucket
// collector, before its cap on buckets.
func (c *SeriesCounter) AddBucketRow(it *bssclient.SplitItemBillItem) error {
	c.labels = resize(c.labels, len(ossBucketLabelsOf(c.ossbucket.cfg))-1)
	if !c.ossbucket.labelsOf(it, c.labels) {
		return nil
	}
	return c.agg.add(c.labels, it.Amounts)
}

// Len is the series counted.
func (c *SeriesCounter) Len() int { return len(c.agg.sorted()) }

func resize(s []string, n int) []string {
	if len(s) != n {
		return make([]string, n)
	}
	return s
}
