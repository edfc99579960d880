package test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

var helmCommand = flag.String("helm", "helm", "the helm binary (the Makefile builds the pinned version)")

// kubeVersion is the cluster version helm renders for: a go-installed helm
// carries no default of its own that satisfies the chart's kubeVersion.
const kubeVersion = "1.33.0"

const (
	chartDir   = "../../charts/aliyun-billing-exporter"
	rulesDir   = "../../dashboards/rules"
	grafanaDir = "../../dashboards/grafana"
	namespace  = "monitoring"
)

func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	if args[0] == "template" || args[0] == "lint" {
		args = append(args, "--kube-version", kubeVersion)
	}
	cmd := exec.Command(*helmCommand, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), fmt.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// rendered is one `helm template` run, every object decoded strictly.
type rendered struct {
	deployment      *appsv1.Deployment
	service         *corev1.Service
	serviceAccount  *corev1.ServiceAccount
	secrets         []*corev1.Secret
	configMaps      []*corev1.ConfigMap
	serviceMonitors []*monitoringv1.ServiceMonitor
	rules           []*monitoringv1.PrometheusRule
}

// decodeStrict decodes one YAML document into out as the API server does
// (sigs.k8s.io/json: field names case-sensitive), failing on any field the
// API type does not have and on duplicate keys: a misspelt field in a
// template fails here, where the API server would drop it with a warning.
func decodeStrict(t *testing.T, doc []byte, out any) {
	t.Helper()
	data, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		t.Fatalf("decoding into %T: %v\n%s", out, err, doc)
	}
	strictErrs, err := kjson.UnmarshalStrict(data, out, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err := errors.Join(append(strictErrs, err)...); err != nil {
		t.Fatalf("decoding into %T: %v\n%s", out, err, doc)
	}
}

func render(t *testing.T, valuesFile string) *rendered {
	t.Helper()
	out, err := helm(t, "template", "billing", chartDir, "--namespace", namespace, "-f", valuesFile)
	if err != nil {
		t.Fatal(err)
	}
	r := &rendered{}
	for _, doc := range strings.Split(out, "\n---\n") {
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("not YAML: %v\n%s", err, doc)
		}
		kind := meta.APIVersion + "/" + meta.Kind
		switch kind {
		case "/": // a comment-only document
			continue
		case "apps/v1/Deployment":
			if r.deployment != nil {
				t.Fatal("two Deployments")
			}
			r.deployment = &appsv1.Deployment{}
			decodeStrict(t, []byte(doc), r.deployment)
		case "v1/Service":
			r.service = &corev1.Service{}
			decodeStrict(t, []byte(doc), r.service)
		case "v1/ServiceAccount":
			r.serviceAccount = &corev1.ServiceAccount{}
			decodeStrict(t, []byte(doc), r.serviceAccount)
		case "v1/Secret":
			s := &corev1.Secret{}
			decodeStrict(t, []byte(doc), s)
			r.secrets = append(r.secrets, s)
		case "v1/ConfigMap":
			c := &corev1.ConfigMap{}
			decodeStrict(t, []byte(doc), c)
			r.configMaps = append(r.configMaps, c)
		case "monitoring.coreos.com/v1/ServiceMonitor":
			s := &monitoringv1.ServiceMonitor{}
			decodeStrict(t, []byte(doc), s)
			r.serviceMonitors = append(r.serviceMonitors, s)
		case "monitoring.coreos.com/v1/PrometheusRule":
			p := &monitoringv1.PrometheusRule{}
			decodeStrict(t, []byte(doc), p)
			r.rules = append(r.rules, p)
		default:
			t.Fatalf("the chart rendered a %s the test does not know; decode it here:\n%s", kind, doc)
		}
	}
	if r.deployment == nil || r.service == nil {
		t.Fatalf("no Deployment or Service rendered:\n%s", out)
	}
	return r
}

func (r *rendered) container(t *testing.T) corev1.Container {
	t.Helper()
	if n := len(r.deployment.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("%d containers, want 1", n)
	}
	return r.deployment.Spec.Template.Spec.Containers[0]
}

func TestChartLint(t *testing.T) {
	files, _ := filepath.Glob("testdata/values/*.yaml")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if out, err := helm(t, "lint", "--strict", chartDir, "-f", f); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

// TestChartDefaults: what every install gets.
func TestChartDefaults(t *testing.T) {
	r := render(t, "testdata/values/defaults.yaml")
	d := r.deployment
	if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("replicas %d, strategy %q; want 1 and Recreate, never two pods reading BSS", *d.Spec.Replicas, d.Spec.Strategy.Type)
	}
	pod := d.Spec.Template.Spec
	c := r.container(t)
	if c.LivenessProbe.HTTPGet.Path != "/-/healthy" || c.ReadinessProbe.HTTPGet.Path != "/-/ready" {
		t.Errorf("probes %q and %q, want /-/healthy and /-/ready", c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path)
	}
	if c.LivenessProbe.HTTPGet.Port.StrVal != c.Ports[0].Name || c.Ports[0].ContainerPort != 9848 {
		t.Errorf("probe port %v, container port %+v", c.LivenessProbe.HTTPGet.Port, c.Ports[0])
	}
	sc := c.SecurityContext
	if sc == nil || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container security context %+v: want a read-only root, no privilege escalation, no capabilities", sc)
	}
	psc := pod.SecurityContext
	if psc == nil || !*psc.RunAsNonRoot || *psc.RunAsUser != 65534 || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context %+v: want non-root 65534 with the runtime's seccomp profile", psc)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the pod mounts a Kubernetes API token it never uses")
	}
	if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v: want a memory request and limit", c.Resources)
	}
	// The state directory: writable (the root is not), and passed to the flag.
	if !slices.Contains(c.Args, "--storage.path=/var/lib/aliyun-billing-exporter") {
		t.Errorf("args %q lack the state directory flag", c.Args)
	}
	if m := mountAt(c, "/var/lib/aliyun-billing-exporter"); m == nil || m.ReadOnly || volume(pod, m.Name).EmptyDir == nil {
		t.Errorf("the state directory is not a writable emptyDir: mounts %+v", c.VolumeMounts)
	}
	if slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--config.file") }) || len(r.secrets) != 0 {
		t.Errorf("no config given, yet args %q and %d Secrets", c.Args, len(r.secrets))
	}
	if r.service.Spec.Ports[0].Port != 9848 || r.service.Spec.Ports[0].TargetPort.StrVal != "http-metrics" {
		t.Errorf("service ports %+v", r.service.Spec.Ports)
	}
	if len(r.serviceMonitors)+len(r.rules)+len(r.configMaps) != 0 {
		t.Error("optional objects rendered by default")
	}
	if _, ok := r.serviceAccount.Annotations["pod-identity.alibabacloud.com/role-name"]; ok {
		t.Error("RRSA annotation without rrsa.enabled")
	}
}

// TestChartACK: RRSA through the webhook, the Operator objects, dashboards,
// and the config from values.
func TestChartACK(t *testing.T) {
	r := render(t, "testdata/values/ack-rrsa-webhook.yaml")
	// RRSA, as ack-pod-identity-webhook documents it.
	if got := r.serviceAccount.Annotations["pod-identity.alibabacloud.com/role-name"]; got != "aliyun-billing-reader" {
		t.Errorf("ServiceAccount role-name annotation %q", got)
	}
	if got := r.serviceAccount.Annotations["pod-identity.alibabacloud.com/service-account-token-expiration"]; got != "7200" {
		t.Errorf("ServiceAccount token-expiration annotation %q", got)
	}
	pod := r.deployment.Spec.Template
	if pod.Labels["pod-identity.alibabacloud.com/injection"] != "on" {
		t.Errorf("pod labels %v lack pod-identity.alibabacloud.com/injection: on", pod.Labels)
	}
	if pod.Spec.ServiceAccountName != r.serviceAccount.Name {
		t.Errorf("pod runs as %q, the chart's ServiceAccount is %q", pod.Spec.ServiceAccountName, r.serviceAccount.Name)
	}

	// The config file: a Secret, mounted, named by --config.file.
	if len(r.secrets) != 1 || !strings.Contains(r.secrets[0].StringData["config.yml"], "monthly_amount: \"120000.00\"") {
		t.Fatalf("config Secret %+v", r.secrets)
	}
	c := r.container(t)
	if !slices.Contains(c.Args, "--config.file=/etc/aliyun-billing-exporter/config.yml") {
		t.Errorf("args %q", c.Args)
	}
	if m := mountAt(c, "/etc/aliyun-billing-exporter"); m == nil || !m.ReadOnly || volume(pod.Spec, m.Name).Secret.SecretName != r.secrets[0].Name {
		t.Errorf("config not mounted from the Secret: %+v", c.VolumeMounts)
	}
	if !slices.Contains(c.Args, "--collector.instance.zone") {
		t.Errorf("extraArgs missing from %q", c.Args)
	}

	// The ServiceMonitor: timestamps honoured, instance and job fixed.
	if len(r.serviceMonitors) != 1 {
		t.Fatalf("%d ServiceMonitors", len(r.serviceMonitors))
	}
	sm := r.serviceMonitors[0]
	if sm.Labels["release"] != "kube-prometheus" {
		t.Errorf("ServiceMonitor labels %v", sm.Labels)
	}
	ep := sm.Spec.Endpoints[0]
	if ep.HonorTimestamps == nil || !*ep.HonorTimestamps {
		t.Error("honorTimestamps is not true: the daily samples' own timestamps would be dropped")
	}
	if ep.Port != r.service.Spec.Ports[0].Name {
		t.Errorf("endpoint port %q, service port %q", ep.Port, r.service.Spec.Ports[0].Name)
	}
	if !subset(sm.Spec.Selector.MatchLabels, r.service.Labels) {
		t.Errorf("selector %v does not select the Service (labels %v)", sm.Spec.Selector.MatchLabels, r.service.Labels)
	}
	fixed := map[string]string{}
	for _, rc := range ep.RelabelConfigs {
		if len(rc.SourceLabels) == 0 && rc.TargetLabel != "" && rc.Replacement != nil {
			fixed[rc.TargetLabel] = *rc.Replacement
		}
	}
	if fixed["instance"] != "aliyun-billing" || fixed["job"] != "aliyun-billing" {
		t.Errorf("relabelings fix %v; want instance and job fixed to aliyun-billing", fixed)
	}

	checkRules(t, r.rules)
	checkDashboards(t, r.configMaps)
}

// checkRules: one PrometheusRule per rules file, equal to the file itself.
func checkRules(t *testing.T, rules []*monitoringv1.PrometheusRule) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(rulesDir, "*.yml"))
	files = slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, "_test.yml") })
	if len(files) == 0 || len(rules) != len(files) {
		t.Fatalf("%d PrometheusRules for %d rules files %v", len(rules), len(files), files)
	}
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var want monitoringv1.PrometheusRuleSpec
		decodeStrict(t, data, &want)
		if !strings.HasSuffix(rules[i].Name, strings.TrimSuffix(filepath.Base(f), ".yml")) {
			t.Errorf("PrometheusRule %d is %s, want one for %s", i, rules[i].Name, f)
		}
		if !reflect.DeepEqual(rules[i].Spec, want) {
			t.Errorf("PrometheusRule %s differs from %s", rules[i].Name, f)
		}
		n := 0
		for _, g := range want.Groups {
			n += len(g.Rules)
		}
		t.Logf("%s: %d groups, %d rules", rules[i].Name, len(want.Groups), n)
	}
}

// checkDashboards: one ConfigMap per dashboard, its JSON byte for byte.
func checkDashboards(t *testing.T, cms []*corev1.ConfigMap) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(grafanaDir, "*.json"))
	if len(files) == 0 || len(cms) != len(files) {
		t.Fatalf("%d ConfigMaps for %d dashboards", len(cms), len(files))
	}
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cm := cms[i]
		if cm.Labels["grafana_dashboard"] != "1" {
			t.Errorf("%s labels %v lack grafana_dashboard", cm.Name, cm.Labels)
		}
		if got := cm.Data[filepath.Base(f)]; got != string(data) {
			t.Errorf("%s: data[%s] is %d bytes, the file %d, or they differ", cm.Name, filepath.Base(f), len(got), len(data))
		}
	}
}

// TestChartManualRRSA: RRSA without the webhook add-on, an existing Secret
// and an existing PersistentVolumeClaim.
func TestChartManualRRSA(t *testing.T) {
	r := render(t, "testdata/values/ack-rrsa-manual.yaml")
	pod := r.deployment.Spec.Template.Spec
	c := r.container(t)
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	for k, want := range map[string]string{
		"ALIBABA_CLOUD_ROLE_ARN":              "acs:ram::1234567890123456:role/aliyun-billing-reader",
		"ALIBABA_CLOUD_OIDC_PROVIDER_ARN":     "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c0123456789abcdef",
		"ALIBABA_CLOUD_OIDC_TOKEN_FILE":       "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token",
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
	} {
		if env[k] != want {
			t.Errorf("env %s=%q, want %q", k, env[k], want)
		}
	}
	m := mountAt(c, "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens")
	if m == nil {
		t.Fatalf("no token mount: %+v", c.VolumeMounts)
	}
	tok := volume(pod, m.Name).Projected.Sources[0].ServiceAccountToken
	if tok.Audience != "sts.aliyuncs.com" || tok.Path != "token" || *tok.ExpirationSeconds != 3600 {
		t.Errorf("projected token %+v", tok)
	}
	if _, ok := r.deployment.Spec.Template.Labels["pod-identity.alibabacloud.com/injection"]; ok {
		t.Error("manual mode asks the webhook to inject as well")
	}
	if len(r.secrets) != 0 {
		t.Error("a Secret rendered although config.existingSecret names one")
	}
	cfg := volume(pod, mountAt(c, "/etc/aliyun-billing-exporter").Name).Secret
	if cfg.SecretName != "billing-config" || cfg.Items[0].Key != "exporter.yml" || cfg.Items[0].Path != "config.yml" {
		t.Errorf("config volume %+v", cfg)
	}
	if st := volume(pod, mountAt(c, "/var/lib/aliyun-billing-exporter").Name); st.PersistentVolumeClaim == nil || st.PersistentVolumeClaim.ClaimName != "billing-state" {
		t.Errorf("state volume %+v, want the claim billing-state", st)
	}
}

// TestChartRejects: values that would deploy something wrong fail to render,
// naming the value.
func TestChartRejects(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{"replicaCount=2", "replicaCount: must be 1"},
		{"rrsa.enabled=true", "rrsa.roleName: required with rrsa.mode webhook"},
		{"rrsa.enabled=true,rrsa.mode=manual", "rrsa.roleArn: required with rrsa.mode manual"},
		{"rrsa.enabled=true,rrsa.mode=sidecar", `rrsa.mode: "sidecar" is not one of webhook, manual`},
	} {
		t.Run(tc.set, func(t *testing.T) {
			out, err := helm(t, "template", "billing", chartDir, "--set", tc.set)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("--set %s: err %v, output\n%s\nwant an error saying %q", tc.set, err, out, tc.want)
			}
		})
	}
}

func mountAt(c corev1.Container, path string) *corev1.VolumeMount {
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].MountPath == path {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func volume(pod corev1.PodSpec, name string) corev1.VolumeSource {
	for _, v := range pod.Volumes {
		if v.Name == name {
			return v.VolumeSource
		}
	}
	return corev1.VolumeSource{}
}

func subset(sub, super map[string]string) bool {
	for k, v := range sub {
		if super[k] != v {
			return false
		}
	}
	return len(sub) > 0
}

// TestChartPackage: `helm package` resolves the symlinks into dashboards/,
// so the packaged chart is self-contained, leaves out the rule tests, and
// renders the same rules and dashboards.
func TestChartPackage(t *testing.T) {
	dir := t.TempDir()
	if out, err := helm(t, "package", chartDir, "--destination", dir); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	pkgs, _ := filepath.Glob(filepath.Join(dir, "aliyun-billing-exporter-*.tgz"))
	if len(pkgs) != 1 {
		t.Fatalf("helm package made %v", pkgs)
	}
	f, err := os.Open(pkgs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeSymlink {
			t.Errorf("%s is a symlink in the package", h.Name)
		}
		names = append(names, h.Name)
	}
	for _, want := range []string{"aliyun-billing-exporter/files/rules/alerts.yml", "aliyun-billing-exporter/files/dashboards/cost-overview.json"} {
		if !slices.Contains(names, want) {
			t.Errorf("the package lacks %s: %v", want, names)
		}
	}
	for _, n := range names {
		if strings.HasSuffix(n, "_test.yml") {
			t.Errorf("the package carries the rule test %s", n)
		}
	}

	out, err := helm(t, "template", "billing", pkgs[0], "--namespace", namespace, "-f", "testdata/values/ack-rrsa-webhook.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fromDir, err := helm(t, "template", "billing", chartDir, "--namespace", namespace, "-f", "testdata/values/ack-rrsa-webhook.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if out != fromDir {
		t.Error("the packaged chart renders differently from the chart directory")
	}
}
