package benchmarks

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"
)

// BenchmarkBackfillBillFiles is the 18-month backfill of the instance
// family at about 50,000 instance-bill rows a day (the 50k account of
// BenchmarkBigAccount), from the bill files, against a simulator with
// BSS's real quota and 150 ms answers. Through the API the same backfill
// costs one request per 300 rows a day: it reports its requests and
// seconds against that minimum (requests ÷ 10 a second).
func BenchmarkBackfillBillFiles(b *testing.B) {
	bin, err := proctest.Built("aliyun-billing-exporter")
	if err != nil {
		b.Fatal(err)
	}
	madeRE := regexp.MustCompile(`wrote \S+: ([0-9]+) samples in [0-9]+ families; ([0-9]+) requests in `)
	for b.Loop() {
		simFlags, exporterFlags := billFiles(b)
		sim := startRealSim(b, 14368, realQuota, realLatency, "", simFlags...)
		output := filepath.Join(b.TempDir(), "history.om")
		cmd := exec.Command(bin, append([]string{"backfill", "--bss.endpoint=" + sim.URL, "--families=instance",
			"--output=" + output}, exporterFlags...)...)
		cmd.Env = append(os.Environ(), "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5tSimulatorKey0001",
			"ALIBABA_CLOUD_ACCESS_KEY_SECRET=SimulatorSecret0000000000000001", "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		elapsed := time.Since(start)
		if err != nil {
			b.Fatalf("backfill: %v\n%s", err, out)
		}
		made := madeRE.FindSubmatch(out)
		if made == nil {
			b.Fatalf("the backfill did not say what it wrote:\n%s", out)
		}
		samples, _ := strconv.Atoi(string(made[1]))
		requests, _ := strconv.Atoi(string(made[2]))
		b.Logf("%s", out)
		b.Logf("18 months of the instance family from bill files: %d samples, %d BSS requests, %.1f s",
			samples, requests, elapsed.Seconds())

		// The same plan through the API, estimated: its first day read,
		// the rest at that day's cost.
		estimate := exec.Command(bin, "backfill", "--bss.endpoint="+sim.URL, "--families=instance", "--estimate",
			"--output="+filepath.Join(b.TempDir(), "api.om"))
		estimate.Env = cmd.Env
		out, err = estimate.CombinedOutput()
		if err != nil {
			b.Fatalf("backfill --estimate: %v\n%s", err, out)
		}
		cost := regexp.MustCompile(`cost: about ([0-9]+) requests in all`).FindSubmatch(out)
		if cost == nil {
			b.Fatalf("no estimate:\n%s", out)
		}
		apiRequests, _ := strconv.Atoi(string(cost[1]))
		b.Logf("through the API: about %d requests, at least %.0f s at 10/s; the files took %.3f of that",
			apiRequests, float64(apiRequests)/realQuota, elapsed.Seconds()/(float64(apiRequests)/realQuota))
		b.ReportMetric(float64(apiRequests), "api-requests")
		b.ReportMetric(elapsed.Seconds(), "backfill-s")
		b.ReportMetric(float64(requests), "backfill-requests")
	}
}
