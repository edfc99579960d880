package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun-billing-exporter/aliyun-billing-exporter/internal/proctest"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// exporterGauge scrapes name from the exporter's /metrics on a fresh
// connection, so that the scrape holds nothing afterwards.
func exporterGauge(t *testing.T, addr, name string) float64 {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	mf := families[name]
	if mf == nil || len(mf.Metric) == 0 {
		t.Fatalf("no %s in /metrics", name)
	}
	return mf.Metric[0].GetGauge().GetValue()
}

// Twice --web.max-requests idle connections and as many requests whose
// body never comes, held for 30 s, neither block a normal scrape nor keep
// what they took: the server closes every one of them, and goroutines and
// file descriptors return to where they were.
func TestHostileClientsCannotStarveScrapes(t *testing.T) {
	bin := proctest.Build(t, "aliyun-billing-exporter")
	const maxRequests = 10
	p := startExporter(t, bin, "--demo", "--web.max-requests="+strconv.Itoa(maxRequests), "--collector.instance.per-instance", "--log.format=json", "--log.level=debug")
	p.waitReady(t)
	baseGoroutines := exporterGauge(t, p.addr, "go_goroutines")
	baseFDs := exporterGauge(t, p.addr, "process_open_fds")

	var attackers []net.Conn
	for i := range 4 * maxRequests {
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		attackers = append(attackers, c)
		if i%2 == 1 { // a slow body: the headers promise 1000 bytes that never come
			if _, err := fmt.Fprintf(c, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
		} // else idle: connected, silent
	}
	// Clients that hang up in the middle of an answer, with a reset.
	for range maxRequests {
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
		_, _ = c.Read(make([]byte, 1))
		_ = c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}

	// Meanwhile Prometheus scrapes, every half second for 30 s.
	scraper := &http.Client{Timeout: 10 * time.Second}
	codes := map[int]int{}
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		resp, err := scraper.Get("http://" + p.addr + "/metrics")
		if err != nil {
			codes[0]++
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	scraper.CloseIdleConnections()
	if len(codes) != 1 || codes[http.StatusOK] == 0 {
		t.Errorf("scrapes during the attack: %v (status: count), want only 200s", codes)
	}

	// By now the server has closed every attacker's connection: reading
	// gets the end (after a 400 for the slow bodies), never a timeout.
	var wg sync.WaitGroup
	var mu sync.Mutex
	closedByServer := 0
	for _, c := range attackers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err := io.Copy(io.Discard, c)
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				mu.Lock()
				closedByServer++
				mu.Unlock()
			}
			c.Close()
		}()
	}
	wg.Wait()
	if closedByServer != len(attackers) {
		t.Errorf("the server closed %d of %d hostile connections within the 30 s", closedByServer, len(attackers))
	}

	// Goroutines and descriptors return to the baseline (a little slack
	// for the runtime's own).
	var goroutines, fds float64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		goroutines, fds = exporterGauge(t, p.addr, "go_goroutines"), exporterGauge(t, p.addr, "process_open_fds")
		if goroutines <= baseGoroutines+2 && fds <= baseFDs+2 {
			break
		}
	}
	if goroutines > baseGoroutines+2 || fds > baseFDs+2 {
		t.Errorf("after the attack: %v goroutines (baseline %v), %v file descriptors (baseline %v)", goroutines, baseGoroutines, fds, baseFDs)
	}

	// Nothing of this is an error the operator must act on: hang-ups are
	// logged at debug level, and every line stays JSON.
	_ = p.Signal(syscall.SIGTERM)
	_ = p.Wait()
	sc := bufio.NewScanner(strings.NewReader(p.Log()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Errorf("a log line is not JSON: %q", sc.Text())
			continue
		}
		if rec["level"] == "error" {
			t.Errorf("logged at error level: %s", sc.Text())
		}
	}
}
