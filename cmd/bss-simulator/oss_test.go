package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/bsssim"
	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"
)

// TestOSSEndpointFromTheCommandLine: --oss.listen-address serves the bill
// files on the same world and clock, --oss.faults applies, and the SDK
// reads them with the simulator's key.
func TestOSSEndpointFromTheCommandLine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	stdoutR, stdoutW := io.Pipe()
	stderr := &proctest.Buffer{}
	exited := make(chan int, 1)
	go func() {
		defer stdoutW.Close()
		exited <- runContext(ctx, []string{"--listen-address=127.0.0.1:0", "--oss.listen-address=127.0.0.1:0",
			"--split-item-subscription", "--clock.start=2024-06-10T12:00:00+08:00", "--oss.faults=missing-day=2024-06-07"},
			stdoutW, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-exited:
			if code != exitOK {
				t.Errorf("exit %d; stderr %s", code, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("simulator did not stop")
		}
	})
	var bucket, endpoint string
	lines := bufio.NewScanner(stdoutR)
	for endpoint == "" && lines.Scan() {
		// "OSS bill files: bucket <b>, region <r>, endpoint <url> (path style)"
		if rest, ok := strings.CutPrefix(lines.Text(), "OSS bill files: bucket "); ok {
			fields := strings.Fields(rest)
			bucket, endpoint = strings.TrimSuffix(fields[0], ","), fields[4]
		}
	}
	if endpoint == "" {
		t.Fatalf("no OSS endpoint printed; stderr %s", stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdoutR) }()

	c := oss.NewClient(oss.LoadDefaultConfig().WithRegion(bsssim.DefaultOSSRegion).WithEndpoint(endpoint).
		WithRetryMaxAttempts(1).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(bsssim.TestAccessKeyID, bsssim.TestAccessKeySecret)))
	// Every page: the bucket holds the files of the year before each
	// subscription started, more than one page of keys.
	var keys []string
	pages := c.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: oss.Ptr(bucket), MaxKeys: 1000})
	for pages.HasNext() {
		res, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range res.Contents {
			keys = append(keys, oss.ToString(o.Key))
		}
	}
	all := strings.Join(keys, "\n")
	for _, want := range []string{"_InstanceDetail_20240608.csv", "_SplitItemDetailDaily_202405.csv"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %s among %d keys", want, len(keys))
		}
	}
	if strings.Contains(all, "_20240607") {
		t.Error("--oss.faults missing-day=2024-06-07 did not remove that day's files")
	}
}
